"""Lifecycle tasks with invoke.MockContext: the CLI commands they build and the guards on protected envs."""

import io

import pytest
from invoke import Collection, Exit, MockContext, Result

from tests.helpers import run_program
from tmkit import guard, lifecycle
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
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [])
    prod = envs_dir / "prod.toml"
    prod.write_text(prod.read_text().replace('# account = "333333333333"', 'account = "333333333333"'))
    return envs_dir


SORT_KEY_CHANGE = guard.StatefulChange("DataTable", "AWS::DynamoDB::Table", "WILL_REPLACE", ("KeySchema",))


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


def test_deploy_local_synthesizes_its_own_assembly_then_deploys_exactly_that(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="local")
    synth, cmd = commands(c)
    assert " synth " in synth and "TimeManagement-local" in synth and "--output cdk.out/local" in synth
    assert "deploy" in cmd and "TimeManagement-local" in cmd and "--method=direct" in cmd
    assert "-c env=local" in cmd and "--app cdk.out/local" in cmd and "--output" not in cmd
    env = c.run.call_args_list[1].kwargs["env"]
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4599" and env["AWS_ACCESS_KEY_ID"] == "testing"


def test_deploy_dev_is_not_direct_and_uses_real_credentials(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="dev")
    _, cmd = commands(c)
    assert "--method=direct" not in cmd and "TimeManagement-dev" in cmd
    assert "AWS_ACCESS_KEY_ID" not in c.run.call_args_list[1].kwargs["env"]


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
    assert " synth " in cmds[0]  # synthesized and checked by the guard before anything changes
    assert " bootstrap " in cmds[1] and cmds[1].endswith("aws://123456789012/us-east-1")
    assert " deploy " in cmds[2] and "TimeManagement-account-us-east-1" in cmds[2]  # the account stack
    assert "--app cdk.out/local" in cmds[2]  # from the checked assembly
    assert " deploy " in cmds[3] and "TimeManagement-local " in cmds[3]


def test_bootstrap_deploys_the_account_stack_after_the_cdk_bootstrap(no_aws, monkeypatch):
    monkeypatch.setattr("tmkit.aws.caller_account", lambda cfg: "123456789012")
    c = ctx(Result())
    stack.bootstrap(c, env="dev")
    boot, account = commands(c)
    assert " bootstrap " in boot and " deploy " in account and "TimeManagement-account-us-east-1" in account
    assert "--require-approval never" in account and "--method=direct" not in account
    with pytest.raises(Exit) as err:
        stack.bootstrap(ctx(Result(), Result(exited=1)), env="dev")
    assert "account stack TimeManagement-account (us-east-1) failed" in err.value.message


def test_prod_deploy_without_yes_and_without_terminal_changes_nothing(no_aws, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    c = ctx(Result())
    with pytest.raises(Exit) as err:
        stack.deploy(c, env="prod")
    assert "--yes" in err.value.message
    cmds = commands(c)
    assert len(cmds) == 2 and " synth " in cmds[0] and " diff " in cmds[1]  # the diff was shown, nothing deployed


def test_prod_deploy_with_yes_shows_diff_then_deploys(no_aws):
    c = ctx(Result())
    stack.deploy(c, env="prod", yes=True)
    cmds = commands(c)
    assert " synth " in cmds[0] and " diff " in cmds[1] and " deploy " in cmds[2]
    assert "--app cdk.out/prod" in cmds[1] and "--app cdk.out/prod" in cmds[2]


def test_hotswap_refused_on_prod_allowed_on_dev(no_aws):
    with pytest.raises(Exit, match=None) as err:
        stack.deploy(ctx(), env="prod", hotswap=True, yes=True)
    assert "--hotswap is not allowed" in err.value.message
    c = ctx(Result())
    stack.deploy(c, env="dev", hotswap=True)
    assert "--hotswap" in commands(c)[1]


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
        stack.deploy(ctx(Result(), Result(exited=1)), env="dev")  # synth ok, deploy fails
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


# ---- the stateful-resource guard -----------------------------------------------------------------
def test_protected_deploy_refuses_a_stateful_replacement_before_changing_anything(no_aws, monkeypatch):
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [SORT_KEY_CHANGE])
    c = ctx(Result())
    with pytest.raises(Exit) as err:
        stack.deploy(c, env="prod", yes=True)
    msg = err.value.message
    assert "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)" in msg
    assert "--allow-replace DataTable" in msg and "Nothing was changed" in msg
    assert [" synth " in cmd for cmd in commands(c)] == [True]  # synthesized, nothing diffed or deployed


def test_allow_replace_lets_the_named_resource_through(no_aws, monkeypatch, capsys):
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [SORT_KEY_CHANGE])
    c = ctx(Result())
    stack.deploy(c, env="prod", yes=True, allow_replace=["DataTable"])
    assert " deploy " in commands(c)[-1]
    assert "allowed by --allow-replace: DataTable" in capsys.readouterr().err
    other = guard.StatefulChange("FrontendBucket", "AWS::S3::Bucket", "WILL_DESTROY", ())
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [SORT_KEY_CHANGE, other])
    with pytest.raises(Exit) as err:  # naming one resource does not let another through
        stack.deploy(ctx(Result()), env="prod", yes=True, allow_replace=["DataTable"])
    assert "FrontendBucket (AWS::S3::Bucket) will be destroyed" in err.value.message
    assert "DataTable" not in err.value.message.split("lose their data:")[1].split("Nothing")[0]


def test_unprotected_deploy_warns_about_a_stateful_replacement_and_goes_on(no_aws, monkeypatch, capsys):
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [SORT_KEY_CHANGE])
    c = ctx(Result())
    stack.deploy(c, env="dev")
    assert " deploy " in commands(c)[-1]
    err = capsys.readouterr().err
    assert "warning:" in err and "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)" in err


def test_allow_replace_is_repeatable_on_the_command_line(no_aws, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("tmkit.deploy.deploy", lambda c, cfg, **kw: seen.update(kw))
    code, _, err = run_program(
        capsys,
        Collection.from_module(stack),
        "stack.deploy",
        "--env",
        "dev",
        "--allow-replace",
        "DataTable",
        "--allow-replace",
        "FrontendBucket",
    )
    assert code == 0, err
    assert list(seen["allow_replace"]) == ["DataTable", "FrontendBucket"]


# ---- inv diff --------------------------------------------------------------------------------------
def test_diff_compares_templates_with_the_read_only_lookup_role_and_prints_stateful_changes(
    no_aws, monkeypatch, capsys
):
    monkeypatch.setattr(guard, "stateful_changes", lambda cfg, assembly: [SORT_KEY_CHANGE])
    c = ctx(Result(stderr="Number of stacks with differences: 1\n"))
    stack.diff(c, env="dev")
    (cmd,) = commands(c)
    assert " diff " in cmd and "--method template" in cmd  # no change set: the lookup role is enough
    assert "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)" in capsys.readouterr().err


def test_diff_that_could_not_be_computed_exits_non_zero(no_aws):
    for result in (Result(exited=1, stderr="AccessDenied"), Result(stderr="something else entirely")):
        with pytest.raises(Exit) as err:
            stack.diff(ctx(result), env="dev")
        assert "could not be computed" in err.value.message


def test_diff_fail_exits_1_only_when_there_are_differences(no_aws):
    stack.diff(ctx(Result(stderr="Number of stacks with differences: 0\n")), env="dev", fail=True)
    stack.diff(ctx(Result(stderr="Number of stacks with differences: 1\n")), env="dev")
    with pytest.raises(Exit) as err:
        stack.diff(ctx(Result(stderr="Number of stacks with differences: 1\n")), env="dev", fail=True)
    assert err.value.code == 1 and "--fail" in err.value.message


# ---- pinned accounts -------------------------------------------------------------------------------
def test_protected_env_without_account_cannot_be_deployed_diffed_or_destroyed(no_aws, monkeypatch):
    prod = no_aws / "prod.toml"
    prod.write_text(prod.read_text().replace('account = "333333333333"', '# account = "333333333333"'))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    for call in (
        lambda c: stack.deploy(c, env="prod", yes=True),
        lambda c: stack.diff(c, env="prod"),
        lambda c: stack.destroy(c, env="prod", yes=True, force=True),
    ):
        c = ctx(Result())
        with pytest.raises(Exit) as err:
            call(c)
        assert "prod.toml: field 'account' is required for a protected environment" in err.value.message
        assert commands(c) == []
    c = ctx(Result())
    stack.synth(c, env="prod")  # synth needs no account
    assert len(commands(c)) == 1
