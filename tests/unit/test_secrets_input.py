"""tmkit.secrets without AWS: where a value comes from, what is refused, the placeholder rule, messages."""

from datetime import UTC, datetime

import pytest

from tests.helpers import ENV_TOML, Pipe, Terminal
from tmkit import secrets
from tmkit.config import load_env
from tmkit.errors import ToolkitError


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    (tmp_path / "unit.toml").write_text(ENV_TOML)
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    return load_env("unit")


@pytest.mark.parametrize(
    "piped, expected",
    [
        ("v", "v"),
        ("v\n", "v"),
        ("v\n\n", "v\n"),  # exactly one newline is stripped
        ("v\r\n", "v"),
        ("  spaced value  \n", "  spaced value  "),
        ("line1\nline2\n", "line1\nline2"),
    ],
)
def test_stdin_value_loses_exactly_one_trailing_newline(piped, expected):
    assert secrets.read_value("K", stdin=Pipe(piped), prompt=lambda p: pytest.fail("prompted")) == expected


def test_file_wins_over_stdin_and_loses_one_newline(tmp_path):
    f = tmp_path / "value.txt"
    f.write_text("from-file\n\n")
    assert secrets.read_value("K", from_file=str(f), stdin=Pipe("from-stdin")) == "from-file\n"


def test_terminal_prompts_twice_hidden():
    asked = []

    def fake(prompt):
        asked.append(prompt)
        return "typed"

    assert secrets.read_value("STRIPE_KEY", stdin=Terminal(), prompt=fake) == "typed"
    assert len(asked) == 2 and "STRIPE_KEY" in asked[0]


def test_prompt_uses_getpass_by_default(monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: "from-getpass")
    assert secrets.read_value("K", stdin=Terminal()) == "from-getpass"


def test_prompt_mismatch_is_refused():
    answers = iter(["one", "two"])
    with pytest.raises(ToolkitError, match="did not match"):
        secrets.read_value("K", stdin=Terminal(), prompt=lambda p: next(answers))


@pytest.mark.parametrize("source", ["stdin", "file", "prompt"])
@pytest.mark.parametrize("raw", ["", "\n", "   \n"])
def test_empty_value_is_refused_from_every_source(source, raw, tmp_path):
    kwargs = {"stdin": Pipe(raw)}
    if source == "file":
        f = tmp_path / "v"
        f.write_text(raw)
        kwargs = {"from_file": str(f)}
    elif source == "prompt":
        kwargs = {"stdin": Terminal(), "prompt": lambda p: raw.rstrip("\n")}
    with pytest.raises(ToolkitError, match="empty.*Nothing was changed"):
        secrets.read_value("K", **kwargs)


def test_missing_file_and_binary_file_are_refused_without_content(tmp_path):
    with pytest.raises(ToolkitError, match="no such file"):
        secrets.read_value("K", from_file=str(tmp_path / "nope"))
    f = tmp_path / "bin"
    f.write_bytes(b"\xff\xfeCANARY\x00")
    with pytest.raises(ToolkitError, match="not UTF-8") as exc:
        secrets.read_value("K", from_file=str(f))
    assert "CANARY" not in str(exc.value)


def test_too_large_and_placeholder_values_are_refused():
    with pytest.raises(ToolkitError, match="limit"):
        secrets.read_value("K", stdin=Pipe("x" * (secrets.MAX_VALUE_BYTES + 1)))
    with pytest.raises(ToolkitError, match="placeholder"):
        secrets.read_value("K", stdin=Pipe('{"tmkit": "unseeded", "placeholder": "abc"}'))


@pytest.mark.parametrize(
    "value, expected",
    [
        ('{"tmkit":"unseeded","placeholder":"Xy12"}', True),
        ('{"tmkit": "unseeded"}', True),
        ('{"tmkit": "seeded"}', False),
        ('["tmkit", "unseeded"]', False),
        ("tmkit unseeded", False),
        ("sk_live_123", False),
        (None, False),
    ],
)
def test_placeholder_rule(value, expected):
    assert secrets.is_placeholder(value) is expected


def test_undeclared_key_lists_declared_keys_and_the_fix(cfg):
    with pytest.raises(ToolkitError) as exc:
        secrets.require_declared(cfg, "STRIPE_KY")
    msg = str(exc.value)
    assert "'STRIPE_KY'" in msg and "STRIPE_KEY, SMTP_PASSWORD" in msg
    assert "secrets = [...]" in msg and "envs/unit.toml" in msg and "inv deploy --env unit" in msg
    secrets.require_declared(cfg, "SMTP_PASSWORD")  # declared: no error


def test_check_names_every_unseeded_key_and_says_how_to_fix(cfg):
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    items = [
        secrets.SecretStatus("STRIPE_KEY", cfg.secret_name("STRIPE_KEY"), secrets.UNSEEDED, when),
        secrets.SecretStatus("SMTP_PASSWORD", cfg.secret_name("SMTP_PASSWORD"), secrets.MISSING),
    ]
    with pytest.raises(ToolkitError) as exc:
        secrets.check(cfg, items)
    msg = str(exc.value)
    assert "2 of 2" in msg and "STRIPE_KEY (unseeded)" in msg and "SMTP_PASSWORD (missing)" in msg
    assert "inv deploy --env unit" in msg and "inv secrets.put --env unit" in msg
    seeded = [secrets.SecretStatus("STRIPE_KEY", "n", secrets.SEEDED, when)]
    assert secrets.check(cfg, seeded) == seeded


def test_rows_and_json_never_hold_values(cfg):
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    items = [secrets.SecretStatus("STRIPE_KEY", "TimeManagement-unit/STRIPE_KEY", secrets.SEEDED, when)]
    assert secrets.table_rows(items) == [
        ("STRIPE_KEY", "TimeManagement-unit/STRIPE_KEY", "seeded", "2025-01-02 03:04:05 UTC")
    ]
    assert '"seeded": true' in secrets.to_json(
        items
    ) and '"last_changed": "2025-01-02T03:04:05+00:00"' in secrets.to_json(items)
