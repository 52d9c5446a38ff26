"""tmkit/preview.py and the [preview] table against CloudFormation and Secrets Manager in moto (in-process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.helpers import ENV_TOML, PLACEHOLDER
from tmkit import preview
from tmkit.config import load_env
from tmkit.errors import ToolkitError

PREVIEW_TABLE = "[preview]\nttl_hours = 48\nmonthly_limit_usd = 3\nmax_previews = 3\n"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
# previews listed against the real clock expire a day from now (a fixed time would pass while the suite runs)
LATER = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)


@pytest.fixture
def envs(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(ENV_TOML + PREVIEW_TABLE)
    (tmp_path / "qa.toml").write_text(ENV_TOML)  # no [preview] table
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(preview.MARKER_VAR, raising=False)
    with mock_aws():
        yield tmp_path


def cf():
    return boto3.client("cloudformation", region_name="us-east-1")


def stack(name: str, **tags: str) -> None:
    cf().create_stack(
        StackName=f"TimeManagement-{name}",
        TemplateBody=TEMPLATE,
        Tags=[{"Key": k.replace("_", "-"), "Value": v} for k, v in tags.items()],
    )


def fake_preview(name: str, base: str = "dev", expires: datetime | None = None) -> None:
    stack(name, preview="true", preview_of=base, expires_at=preview.iso(expires or LATER))


def test_a_protected_environment_may_not_have_a_preview_table(envs):
    text = ENV_TOML.replace(
        'removal_policy = "destroy"\npitr = false', 'protected = true\nremoval_policy = "retain"\npitr = true'
    )
    (envs / "safe.toml").write_text(text + PREVIEW_TABLE)
    with pytest.raises(ToolkitError, match=r"a protected environment may not have a \[preview\] table"):
        load_env("safe")
    (envs / "safe.toml").write_text(text)
    with pytest.raises(ToolkitError, match="may not have previews"):
        preview.prepare(load_env("safe"), "x")


def test_a_preview_config_is_derived_from_its_base(envs):
    cfg = preview.prepare(load_env("dev"), "Feature/Add login page", now=NOW)
    assert cfg.name == "dev-feature-add-login-page" and cfg.preview_of == "dev"
    assert cfg.stack_name == "TimeManagement-dev-feature-add-login-page"
    assert cfg.budget.monthly_limit_usd == 3 and cfg.removal_policy == "destroy" and cfg.preview is None
    tags = dict(cfg.extra_tags)
    assert tags["preview"] == "true" and tags["preview-of"] == "dev"
    assert tags["expires-at"] == "2026-12-04T12:00:00Z"  # ttl_hours = 48
    assert dict(preview.prepare(load_env("dev"), "x", ttl_hours=1, now=NOW).extra_tags)["expires-at"].startswith(
        "2026-12-02T13:00"
    )


def test_refusals_of_prepare(envs):
    dev = load_env("dev")
    with pytest.raises(ToolkitError, match="no letters or digits"):
        preview.prepare(dev, " /// ")
    with pytest.raises(ToolkitError, match="may not have previews"):
        preview.prepare(load_env("qa"), "x")
    with pytest.raises(ToolkitError, match="out of range"):
        preview.prepare(dev, "x", ttl_hours=0)
    with pytest.raises(ToolkitError, match="is itself a preview"):
        preview.prepare(preview.prepare(dev, "x"), "y")
    for n in ("a", "b", "c"):
        fake_preview(f"dev-{n}")
    with pytest.raises(ToolkitError, match=r"already has 3 previews"):
        preview.prepare(dev, "d")
    assert preview.prepare(dev, "a").name == "dev-a"  # redeploying an existing one is fine


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "", "\u0663", "24h"])
def test_a_ttl_that_is_not_a_whole_number_is_a_clear_error(envs, value):
    with pytest.raises(ToolkitError, match=r"--ttl-hours .* is not a whole number of hours: give 1 to 720"):
        preview.prepare(load_env("dev"), "x", ttl_hours=value)


@pytest.mark.parametrize(("value", "hours"), [("3", 3), (" 5 ", 5), (720, 720)])
def test_a_ttl_typed_as_text_is_read_as_hours(envs, value, hours):
    expires = dict(preview.prepare(load_env("dev"), "x", ttl_hours=value, now=NOW).extra_tags)["expires-at"]
    assert expires == preview.iso(NOW + timedelta(hours=hours))


@pytest.mark.parametrize("name", ["\u767b\u5f55", "\u00e9\u00e9"[:0] + "\U0001f600", "..", "\x00\n", ""])
def test_a_name_without_ascii_letters_or_digits_says_so(envs, name):
    with pytest.raises(ToolkitError, match=r"has no letters or digits \(ASCII a-z, 0-9\)"):
        preview.prepare(load_env("dev"), name)


def test_a_huge_or_control_character_name_gives_a_short_valid_slug(envs):
    from tmkit.config import PREVIEW_SLUG_RE

    for name in ("x" * 10_000, "a\x00b\nc", "feature/\u767b\u5f55"):
        cfg = preview.prepare(load_env("dev"), name)
        assert PREVIEW_SLUG_RE.fullmatch(cfg.name.removeprefix("dev-")), cfg.name


def test_a_branch_whose_slug_collides_with_another_branchs_preview_is_warned(envs, monkeypatch):
    # fix/login and fix-login are both the preview dev-fix-login: the second deploy would replace the first's
    stack("dev-fix-login", preview="true", preview_of="dev", expires_at=preview.iso(NOW), git_branch="fix/login")
    monkeypatch.setenv("GITHUB_HEAD_REF", "fix-login")
    said: list[str] = []
    assert preview.prepare(load_env("dev"), "fix-login", say=said.append).name == "dev-fix-login"
    assert said == [
        "warning: preview dev-fix-login was deployed from branch 'fix/login', not 'fix-login' (both names give "
        "the slug fix-login): this deploy replaces it. Pass another --name to keep both."
    ]
    monkeypatch.setenv("GITHUB_HEAD_REF", "fix/login")
    said.clear()
    preview.prepare(load_env("dev"), "fix/login", say=said.append)
    assert said == []  # the same branch again: an update, nothing to warn about


@pytest.mark.parametrize(
    "name", ["dev-", "dev--x", "dev-x-", "dev-" + "a" * 30, "dev-a\x00b", "dev-a\nb", "dev-..", "dev-\u00e9", "-x"]
)
def test_malformed_preview_env_names_are_refused_before_any_aws_call(envs, name, monkeypatch):
    monkeypatch.setattr(preview, "describe_stack", lambda *a: pytest.fail("looked up in AWS"))
    with pytest.raises(ToolkitError, match=r"unknown environment .*names are 2 to 16 lowercase letters"):
        load_env(name)


def test_a_well_formed_preview_that_does_not_exist_is_unknown(envs):
    with pytest.raises(ToolkitError, match=r"no deployed preview of 'dev' by that name.*inv preview.deploy --env dev"):
        load_env("dev-never-deployed")


def test_unknown_preview_names_say_how_to_create_one(envs):
    for name in ("dev-nope", "qa-x", "nobase-x"):
        with pytest.raises(ToolkitError, match=r"unknown environment .*`inv preview.deploy --env \w+ --name NAME`"):
            load_env(name)
    with pytest.raises(ToolkitError, match=r"unknown environment 'dev-Not_A_Slug': .* or a preview `BASE-<slug>`"):
        load_env("dev-Not_A_Slug")


def test_a_deployed_preview_loads_with_its_tags(envs):
    fake_preview("dev-pr-7")
    cfg = load_env("dev-pr-7")
    assert cfg.preview_of == "dev" and dict(cfg.extra_tags)["expires-at"] == preview.iso(LATER)
    stack("dev-untagged")  # a preview's name, not its tags
    with pytest.raises(ToolkitError, match="unknown environment"):
        load_env("dev-untagged")


def test_the_preview_being_deployed_loads_from_the_marker(envs):
    cfg = preview.prepare(load_env("dev"), "pr-8", now=NOW)
    with pytest.raises(ToolkitError):
        load_env("dev-pr-8")
    with preview.creating(cfg):
        assert load_env("dev-pr-8") == cfg
    with pytest.raises(ToolkitError):
        load_env("dev-pr-8")


@pytest.mark.parametrize("value", ["{not json", "[]", '{"name": "dev-pr-8"}', '{"name": "dev-pr-8", "tags": 3}'])
def test_a_malformed_marker_is_a_clear_error(envs, monkeypatch, value):
    monkeypatch.setenv(preview.MARKER_VAR, value)
    with pytest.raises(ToolkitError, match=f"{preview.MARKER_VAR} in the environment is not"):
        load_env("dev-pr-8")


def test_list_finds_previews_by_tags_and_name_prefix(envs):
    fake_preview("dev-a")
    fake_preview("dev-b", expires=NOW - timedelta(hours=1))
    fake_preview("qa-c", base="qa")  # another base
    stack("dev-untagged")
    stack("dev-wrongbase", preview="true", preview_of="qa")
    found = preview.list_previews(load_env("dev"))
    assert [p.name for p in found] == ["dev-a", "dev-b"]
    assert [p.expired for p in found] == [False, True]
    assert found[0].as_dict()["expires_at"] == preview.iso(LATER)


def test_gc_destroys_expired_and_unkept_reports_failures(envs):
    fake_preview("dev-keep")
    fake_preview("dev-old", expires=NOW - timedelta(hours=1))
    fake_preview("dev-other")
    fake_preview("dev-broken", expires=NOW - timedelta(days=3))
    stack("dev-untagged")
    dev = load_env("dev")
    destroyed = []

    def destroy(name):
        if name == "dev-broken":
            raise ToolkitError("stack is in DELETE_FAILED")
        cf().delete_stack(StackName=f"TimeManagement-{name}")
        destroyed.append(name)

    dry = preview.gc(dev, destroy, keep=["keep"], dry_run=True, now=NOW)
    assert sorted(dry.would_destroy) == ["dev-broken", "dev-old", "dev-other"] and destroyed == []
    only_expired = preview.gc(dev, lambda n: None, now=NOW)
    assert sorted(only_expired.destroyed) == ["dev-broken", "dev-old"]  # no --keep: expiry only (nothing deleted)
    report = preview.gc(dev, destroy, keep=["dev-keep"], now=NOW)
    assert sorted(report.destroyed) == ["dev-old", "dev-other"]
    assert report.failed == {"dev-broken": "stack is in DELETE_FAILED"} and report.kept == ["dev-keep"]
    names = {s["StackName"] for s in cf().describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}
    assert {"TimeManagement-dev-keep", "TimeManagement-dev-untagged", "TimeManagement-dev-broken"} <= names


def test_destroy_refuses_what_is_not_a_preview(envs):
    stack("dev-untagged")
    with pytest.raises(ToolkitError, match="is not a preview of 'dev'"):
        preview.require_preview(load_env("dev"), "untagged")
    assert preview.require_preview(load_env("dev"), "gone") is None  # destroying twice is fine
    with pytest.raises(ToolkitError, match="has no previews"):
        preview.require_preview(load_env("qa"), "x")


def test_copy_secrets_copies_seeded_values_only(envs, capsys):
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    dev = load_env("dev")
    target = preview.prepare(dev, "pr-9")
    for cfg in (dev, target):
        for key in cfg.secrets:
            sm.create_secret(Name=cfg.secret_name(key), SecretString=PLACEHOLDER)
    sm.put_secret_value(SecretId=dev.secret_name("STRIPE_KEY"), SecretString="CANARY-sk-live-123")
    copied, skipped = preview.copy_secrets(dev, target)
    assert copied == ["STRIPE_KEY"] and skipped == ["SMTP_PASSWORD"]
    assert sm.get_secret_value(SecretId=target.secret_name("STRIPE_KEY"))["SecretString"] == "CANARY-sk-live-123"
    assert sm.get_secret_value(SecretId=target.secret_name("SMTP_PASSWORD"))["SecretString"] == PLACEHOLDER
    out, err = capsys.readouterr()
    assert "CANARY" not in out + err


def test_a_huge_name_without_letters_is_refused_without_echoing_it_whole(envs):
    with pytest.raises(ToolkitError, match="has no letters or digits") as err:
        preview.preview_slug("!" * 10_000)
    assert len(str(err.value)) < 300
