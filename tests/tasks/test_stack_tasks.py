"""Lifecycle tasks with invoke.MockContext: the CLI commands they build and the guards on protected envs."""

import io

import pytest
from invoke import Exit, MockContext, Result

from tmkit import lifecycle
from tmkit.tasks import stack

OK_CHECKS = [
    lifecycle.Check("account", True, "123456789012"),
    lifecycle.Check("bootstrap", True, "version 30", fatal=False),
]


@pytest.fixture
def no_aws(monkeypatch, envs_dir):
    """Preflight passes without AWS; records what ran."""
    monkeypatch.setattr(lifecycle, "preflight", lambda cfg, tools=True: list(OK_CHECKS))
    monkeypatch.setattr("tmkit.lambda_build.ensure_layer", lambda: None, raising=False)
    monkeypatch.setattr("tmkit.tasks.outputs.show", lambda c, env=None: None)
    # The commands are only recorded (MockContext): these tests do not need node_modules installed.
    monkeypatch.setattr("tmkit.cdk.cli", lambda: "node_modules/.bin/cdk")
    return envs_dir


def ctx(*results):
    return MockContext(run=list(results) or [Result()], repeat=True)


def commands(c):
    return [call.args[0] for call in c.run.call_args_list]


def test_synth_is_one_cli_call_into_cdk_out(no_aws):
    c = ctx(Result())
    stack.synth(c)
    cmds = commands(c)
    assert len(cmds) == 1
    assert cmds[0].startswith("node_modules/.bin/cdk synth") and "--output cdk.out" in cmds[0]
    assert "-c env=" not in cmds[0]  # no env: the app synthesizes every non-local environment


def test_synth_failure_is_a_clean_exit(no_aws):
    with pytest.raises(Exit) as err:
        stack.synth(ctx(Result(exited=1)))
    assert "synth failed (see the messages above)" in err.value.message and "retry" in err.value.message


def test_deploy_local_uses_direct_method_and_own_output_dir(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="local")
    (cmd,) = commands(c)
    assert "deploy" in cmd and "TimeManagement-local" in cmd and "--method=direct" in cmd
    assert "-c env=local" in cmd and "--output cdk.out/local" in cmd
    env = c.run.call_args_list[0].kwargs["env"]
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4599" and env["AWS_ACCESS_KEY_ID"] == "testing"


def test_deploy_dev_is_not_direct_and_uses_real_credentials(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="dev")
    (cmd,) = commands(c)
    assert "--method=direct" not in cmd and "TimeManagement-dev" in cmd
    assert "AWS_ACCESS_KEY_ID" not in c.run.call_args_list[0].kwargs["env"]


def test_deploy_bootstraps_when_missing(no_aws, monkeypatch):
    checks = [
        lifecycle.Check("account", True, "x"),
        lifecycle.Check("bootstrap", False, "not bootstrapped", fatal=False),
    ]
    monkeypatch.setattr(lifecycle, "preflight", lambda cfg, tools=True: checks)
    monkeypatch.setattr("tmkit.aws.caller_account", lambda cfg: "123456789012")
    c = ctx(Result())
    stack.deploy(c, env="local")
    cmds = commands(c)
    assert " bootstrap " in cmds[0] and cmds[0].endswith("aws://123456789012/us-east-1") and " deploy " in cmds[1]


def test_prod_deploy_without_yes_and_without_terminal_changes_nothing(no_aws, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    c = ctx(Result())
    with pytest.raises(Exit) as err:
        stack.deploy(c, env="prod")
    assert "--yes" in err.value.message
    cmds = commands(c)
    assert len(cmds) == 1 and " diff " in cmds[0]  # the diff was shown, nothing deployed


def test_prod_deploy_with_yes_shows_diff_then_deploys(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="prod", yes=True)
    cmds = commands(c)
    assert " diff " in cmds[0] and " deploy " in cmds[1]


def test_hotswap_refused_on_prod_allowed_on_dev(no_aws):
    with pytest.raises(Exit, match=None) as err:
        stack.deploy(ctx(), env="prod", hotswap=True, yes=True)
    assert "--hotswap is not allowed" in err.value.message
    c = ctx(Result())
    stack.deploy(c, env="dev", hotswap=True)
    assert "--hotswap" in commands(c)[0]


def test_prod_destroy_refused_without_confirmation(no_aws, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    c = ctx()
    with pytest.raises(Exit) as err:
        stack.destroy(c, env="prod")
    assert "--yes --force" in err.value.message and commands(c) == []
    with pytest.raises(Exit):
        stack.destroy(c, env="prod", yes=True)  # --yes alone is not enough for prod
    assert commands(c) == []


def test_prod_destroy_refused_when_the_wrong_name_is_typed(no_aws, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Tty("yes\n"))
    c = ctx()
    with pytest.raises(Exit) as err:
        stack.destroy(c, env="prod")
    assert "aborted" in err.value.message and commands(c) == []


def test_failed_deploy_reports_resource_and_reason(no_aws, monkeypatch):
    monkeypatch.setattr(lifecycle, "failure_report", lambda cfg: "Table (AWS::DynamoDB::Table): boom")
    monkeypatch.setattr(lifecycle, "stack_status", lambda cfg: "UPDATE_ROLLBACK_COMPLETE")
    with pytest.raises(Exit) as err:
        stack.deploy(ctx(Result(exited=1)), env="dev")
    msg = err.value.message
    assert "Table (AWS::DynamoDB::Table): boom" in msg and "UPDATE_ROLLBACK_COMPLETE" in msg and "rerun" in msg


def test_unknown_env_is_a_clean_exit(no_aws):
    with pytest.raises(Exit) as err:
        stack.deploy(ctx(), env="staging")
    assert "Available: dev, local, prod, qa" in err.value.message


def test_env_lock_refuses_a_second_run_of_the_same_env(no_aws):
    from tmkit.config import load_env
    from tmkit.errors import ToolkitError

    cfg = load_env("local")
    with lifecycle.env_lock(cfg):
        with pytest.raises(ToolkitError, match="another deploy or destroy of 'local'"), lifecycle.env_lock(cfg):
            pass
        with lifecycle.env_lock(load_env("dev")):  # another env is fine
            pass


def test_synth_lists_unacknowledged_nag_findings(no_aws, monkeypatch):
    finding = "warning: AwsSolutions AwsSolutions-S10 at TimeManagement-dev/FrontendBucket: TLS"
    monkeypatch.setattr("tmkit.cdk.unacknowledged", lambda out: [finding])
    with pytest.raises(Exit) as err:
        stack.synth(ctx(Result()))
    assert finding in err.value.message and "infra/nag.py" in err.value.message
