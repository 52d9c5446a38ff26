"""EnvConfig: every shipped env file loads; every kind of bad file fails naming the file, the field and the fix."""

import pytest
from pydantic import ValidationError

import tmkit.config as config
from tmkit.config import EnvConfig, available_envs, load_env, resolve_env_name
from tmkit.errors import ToolkitError
from tmkit.paths import ENVS_DIR


@pytest.mark.parametrize("name", sorted(p.stem for p in ENVS_DIR.glob("*.toml")))
def test_every_shipped_env_file_loads(name):
    cfg = load_env(name)
    assert isinstance(cfg, EnvConfig)
    assert cfg.name == name and cfg.stack_name == f"TimeManagement-{name}"
    assert cfg.table_name == f"TimeManagement-{name}-data"
    assert all(cfg.secret_name(k) == f"TimeManagement-{name}/{k}" for k in cfg.secrets)


def test_prod_retains_data_and_has_pitr_others_do_not():
    prod = load_env("prod")
    assert prod.protected and prod.removal_policy == "retain" and prod.pitr
    for name in ("dev", "qa", "local"):
        cfg = load_env(name)
        assert not cfg.protected and not cfg.pitr and cfg.removal_policy == "destroy"


def test_only_local_is_emulator_backed():
    assert [n for n in ("dev", "qa", "prod", "local") if load_env(n).is_local] == ["local"]
    assert load_env("local").expected_account == "123456789012"


def test_config_is_frozen():
    cfg = load_env("dev")
    with pytest.raises(ValidationError):
        cfg.region = "eu-west-1"


def test_unknown_env_lists_the_available_ones(envs_dir):
    with pytest.raises(ToolkitError) as err:
        load_env("staging")
    msg = str(err.value)
    assert "staging" in msg and "dev, local, prod, qa" in msg and "docs/environments.md" in msg


def test_adding_an_environment_is_one_file(write_env):
    write_env("demo", replace={"monthly_limit_usd = 25": "monthly_limit_usd = 5"})
    assert "demo" in available_envs()
    cfg = load_env("demo")
    assert cfg.stack_name == "TimeManagement-demo" and cfg.budget.monthly_limit_usd == 5.0


BAD = [
    ("malformed TOML", {"pitr = false": "pitr = = false"}, "", ["bad.toml", "not valid TOML"]),
    ("wrong type", {"pitr = false": 'pitr = "no"'}, "", ["bad.toml", "'pitr'", "boolean"]),
    ("wrong type nested", {"monthly_limit_usd = 25": 'monthly_limit_usd = "lots"'}, "", ["budget.monthly_limit_usd"]),
    ("unknown key", {"project = ": "pitr_enabled = true\nproject = "}, "", ["'pitr_enabled'", "unknown key"]),
    (
        "unknown nested key",
        {"anomaly_monitor = false": "anomaly_monitr = false"},
        "",
        ["budget.anomaly_monitr", "unknown key"],
    ),
    ("invalid e-mail", {'"dev-team@example.com"': '"dev-team-at-example"'}, "", ["budget.emails[0]", "email"]),
    ("invalid region", {'region = "us-east-1"': 'region = "us-east"'}, "", ["'region'", "not an AWS region"]),
    ("invalid account", {'# account = "111111111111"': 'account = "1234"'}, "", ["'account'", "12-digit"]),
    ("account as number", {'# account = "111111111111"': "account = 111111111111"}, "", ["'account'"]),
    ("missing field", {"pitr = false ": "# "}, "", ["'pitr'", "missing"]),
    ("bad retention", {"log_retention_days = 14": "log_retention_days = 10"}, "", ["log_retention_days", "14"]),
    ("bad price class", {'"PriceClass_100"': '"PriceClass_50"'}, "", ["price_class"]),
    ("bad secret key", {'"SMTP_PASSWORD"': '"SMTP PASSWORD"'}, "", ["secrets", "SMTP PASSWORD"]),
    ("name in file", {"project = ": 'name = "x"\nproject = '}, "", ["'name' is not allowed"]),
]


@pytest.mark.parametrize("case,replace,append,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_env_file_names_file_and_field(write_env, case, replace, append, expected):
    name = write_env("bad", replace=replace, append=append)
    with pytest.raises(ToolkitError) as err:
        load_env(name)
    msg = str(err.value)
    for fragment in expected:
        assert fragment in msg, (fragment, msg)
    assert "envs/bad.toml" in msg


@pytest.mark.parametrize(
    "replace,fragment",
    [
        ({"pitr = true ": "pitr = false "}, "pitr = true"),
        ({'removal_policy = "retain"': 'removal_policy = "destroy"'}, 'removal_policy = "retain"'),
        ({"protected = true": "protected = false"}, "protected = true"),
    ],
)
def test_prod_that_would_lose_data_is_refused(write_env, envs_dir, replace, fragment):
    text = (envs_dir / "prod.toml").read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    (envs_dir / "prod.toml").write_text(text)
    with pytest.raises(ToolkitError) as err:
        load_env("prod")
    assert "prod.toml" in str(err.value) and fragment in str(err.value)


def test_emulator_endpoint_must_be_localhost(write_env):
    name = write_env("emu", base="local", replace={"http://localhost:4599": "http://10.0.0.5:4599"})
    with pytest.raises(ToolkitError, match="emulator.endpoint"):
        load_env(name)


def test_endpoint_override_from_process_environment(envs_dir, monkeypatch):
    assert load_env("local").endpoint_url == "http://localhost:4599"
    assert load_env("dev").endpoint_url is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9999")
    assert load_env("local").endpoint_url == "http://localhost:9999"


def test_env_selection_order(envs_dir, monkeypatch, tmp_path):
    monkeypatch.setattr(config, "ROOT", tmp_path)
    assert resolve_env_name(None) == "dev"
    (tmp_path / ".env").write_text("ENVIRONMENT=qa\n")
    assert resolve_env_name(None) == "qa"
    monkeypatch.setenv("ENVIRONMENT", "prod")
    assert resolve_env_name(None) == "prod"
    assert resolve_env_name("local") == "local"


@pytest.mark.parametrize("name", ["", " ", "\t", "\n"])
def test_empty_env_name_is_refused_not_read_as_dev(envs_dir, name):
    with pytest.raises(ToolkitError) as err:
        resolve_env_name(name)
    msg = str(err.value)
    assert "--env is empty" in msg and "--env dev" in msg and "dev, local, prod, qa" in msg


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "dev/../prod", "Dev", "dev ", "d", "dev.toml", "a" * 17])
def test_malformed_env_name_is_refused_before_any_file_is_read(envs_dir, name):
    with pytest.raises(ToolkitError) as err:
        resolve_env_name(name)
    msg = str(err.value)
    assert repr(name) in msg and "from --env" in msg and "2 to 16 lowercase letters" in msg
    with pytest.raises(ToolkitError, match="2 to 16 lowercase letters"):
        load_env(name)


@pytest.mark.parametrize("where", ["shell", ".env"])
def test_empty_environment_variable_is_refused_not_read_as_dev(envs_dir, monkeypatch, tmp_path, where):
    monkeypatch.setattr(config, "ROOT", tmp_path)
    if where == "shell":
        monkeypatch.setenv("ENVIRONMENT", "")
    else:
        (tmp_path / ".env").write_text("ENVIRONMENT=\n")
    with pytest.raises(ToolkitError, match=f"ENVIRONMENT in {'the shell' if where == 'shell' else '.env'} is empty"):
        resolve_env_name(None)
    assert resolve_env_name("qa") == "qa"  # --env still wins


def test_a_huge_env_name_is_not_echoed_whole(envs_dir):
    with pytest.raises(ToolkitError) as err:
        resolve_env_name("x" * 10_000)
    assert len(str(err.value)) < 400 and "xxxx..." in str(err.value)
