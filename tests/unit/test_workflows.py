"""The GitHub Actions workflows: valid (the GitHub workflow JSON schema, offline) and doing what they promise.

Semantics are checked on the *effective* jobs: a job that calls the reusable deploy.yml is expanded
with its inputs, so "dev deploys with `inv deploy --env dev`" is asserted on what would run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import tasks
from tmkit.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
CALLERS = {"dev": "dev", "qa": "qa", "prod": "prod"}  # workflow file stem -> toolkit environment
CONFIGURE = "aws-actions/configure-aws-credentials@"
BIN = Path(sys.executable).parent


def load(path: Path) -> dict:
    wf = yaml.safe_load(path.read_text())
    if True in wf:  # YAML 1.1 reads the key `on` as a boolean
        wf["on"] = wf.pop(True)
    return wf


@dataclass
class Job:
    workflow: str
    name: str
    raw: dict  # the job that runs steps (in the reusable workflow when called)
    permissions: dict  # what the job gets: the caller's grant when it calls a reusable workflow
    needs: list[str]
    inputs: dict

    @property
    def environment(self) -> str | None:
        env = self.raw.get("environment")
        return render(env["name"] if isinstance(env, dict) else env, self.inputs) if env else None

    @property
    def steps(self) -> list[dict]:
        return self.raw.get("steps", [])

    def lines(self) -> list[str]:
        """Every `run:` line, with ${{ inputs.* }} and the job's env variables ($TM_ENV) resolved."""
        variables = {k: render(v, self.inputs) for k, v in self.raw.get("env", {}).items()}
        out = []
        for step in self.steps:
            for line in render(step.get("run", ""), self.inputs).splitlines():
                out.append(re.sub(r'"?\$(\w+)"?', lambda m: variables.get(m.group(1), m.group(0)), line))
        return out

    def inv(self) -> list[list[str]]:
        """Every Invoke command the job runs, as argv after `.venv/bin/inv`, in order."""
        return [shlex.split(m) for line in self.lines() for m in re.findall(r"\.venv/bin/inv ([^|;)&>]+)", line)]

    def aws_steps(self) -> list[dict]:
        return [s for s in self.steps if s.get("uses", "").startswith(CONFIGURE)]


def render(value, inputs: dict):
    """Evaluate the expressions these workflows use: inputs.x and `inputs.x && 'a' || 'b'`."""
    if not isinstance(value, str):
        return value

    def expr(m):
        e = m.group(1).strip()
        cond = re.fullmatch(r"inputs\.(\w+) && '([^']*)' \|\| '([^']*)'", e)
        if cond:
            return cond.group(2) if inputs.get(cond.group(1)) else cond.group(3)
        if e.startswith("inputs."):
            return str(inputs.get(e.split(".", 1)[1], ""))
        return m.group(0)

    return re.sub(r"\$\{\{(.*?)\}\}", expr, value)


def effective_jobs(stem: str) -> dict[str, Job]:
    wf = load(WORKFLOWS / f"{stem}.yml")
    jobs = {}
    for name, job in wf["jobs"].items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if "uses" in job:
            assert job["uses"].startswith("./.github/workflows/"), job["uses"]
            called = load(ROOT / job["uses"])
            (inner,) = called["jobs"].values()
            declared = called["on"]["workflow_call"]["inputs"]
            inputs = {k: v.get("default") for k, v in declared.items()} | job.get("with", {})
            assert set(job.get("with", {})) <= set(declared), f"{stem}.{name} passes undeclared inputs"
            jobs[name] = Job(stem, name, inner, job.get("permissions", wf.get("permissions", {})), needs, inputs)
        else:
            jobs[name] = Job(stem, name, job, job.get("permissions", wf.get("permissions", {})), needs, {})
    return jobs


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is not installed: run `make setup` (requirements-dev.txt pins it)"
    return path


# ---- validity -------------------------------------------------------------------------------


def test_the_workflow_set():
    assert [f.name for f in FILES] == ["deploy.yml", "dev.yml", "preview.yml", "prod.yml", "qa.yml"]


def test_github_workflow_schema_passes():
    """The GitHub workflow JSON schema that check-jsonschema ships (offline)."""
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- triggers -------------------------------------------------------------------------------


def test_dev_deploys_on_push_to_main_and_on_demand():
    on = load(WORKFLOWS / "dev.yml")["on"]
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]


@pytest.mark.parametrize("stem", ["qa", "prod"])
def test_qa_and_prod_run_only_on_manual_dispatch(stem):
    assert set(load(WORKFLOWS / f"{stem}.yml")["on"]) == {"workflow_dispatch"}


def test_the_reusable_workflow_can_only_be_called():
    assert set(load(WORKFLOWS / "deploy.yml")["on"]) == {"workflow_call"}


# ---- what runs --------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["dev", "qa", "prod"])
def test_each_environment_deploys_then_builds_and_publishes_the_frontend(stem):
    env = CALLERS[stem]
    deploy = effective_jobs(stem)["deploy"]
    expected_deploy = ["deploy", "--env", env] + (["--yes"] if stem == "prod" else [])
    assert deploy.inv() == [
        expected_deploy,
        ["frontend.build", "--env", env],
        ["frontend.publish", "--env", env, "--wait"],
        ["outputs.show", "--env", env, "--json"],
        ["verify", "--env", env],
    ]
    assert deploy.environment == env  # GitHub environment = its protection rules and the OIDC subject


def test_prod_shows_the_diff_in_a_job_before_the_approved_deploy():
    jobs = effective_jobs("prod")
    assert set(jobs) == {"diff", "deploy"}
    assert jobs["diff"].inv() == [["diff", "--env", "prod"]]
    assert jobs["deploy"].needs == ["diff"]
    # The diff job is outside the "prod" environment, so it runs before the reviewers' approval,
    # with the read-only diff role; only the deploy job waits for the approval.
    assert jobs["diff"].environment is None
    (step,) = jobs["diff"].aws_steps()
    assert step["with"]["role-to-assume"] == "${{ vars.AWS_DIFF_ROLE_ARN }}"


def all_jobs() -> list[Job]:
    return [job for stem in CALLERS for job in effective_jobs(stem).values()]


@pytest.mark.parametrize("job", all_jobs(), ids=lambda j: f"{j.workflow}.{j.name}")
def test_every_aws_job_uses_oidc_and_no_stored_keys(job):
    assert job.permissions == {"id-token": "write", "contents": "read"}
    assert job.raw.get("permissions", job.permissions) == {"id-token": "write", "contents": "read"}
    (step,) = job.aws_steps()
    inputs = step["with"]
    assert re.fullmatch(r"\$\{\{ vars\.AWS_(DEPLOY|DIFF)_ROLE_ARN \}\}", inputs["role-to-assume"])
    assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs)
    assert inputs["aws-region"] == "${{ steps.env.outputs.region }}"
    # credentials come before the first inv command that talks to AWS, after the toolchain
    runs = [s.get("run", "") for s in job.steps]
    first_inv = next(i for i, r in enumerate(runs) if ".venv/bin/inv " in r)
    assert runs.index("make setup") < job.steps.index(step) < first_inv


@pytest.mark.parametrize(
    "job", [j for j in all_jobs() if j.inv()[0][:1] == ["deploy"]], ids=lambda j: f"{j.workflow}.{j.name}"
)
def test_every_deploy_job_is_in_its_environment_with_the_deploy_role_and_never_cancelled(job):
    assert job.environment == CALLERS[job.workflow]
    (step,) = job.aws_steps()
    assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    concurrency = job.raw["concurrency"]
    assert render(concurrency["group"], job.inputs) == f"deploy-{job.environment}"
    assert concurrency["cancel-in-progress"] is False


def test_no_workflow_mentions_long_lived_keys_and_default_permissions_are_read_only():
    for f in FILES:
        text = f.read_text()
        assert not re.search(
            r"aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY", text
        ), f
        assert load(f)["permissions"] == {"contents": "read"}, f


def test_every_inv_command_names_an_existing_task_and_its_flags():
    for job in all_jobs():
        for argv in job.inv():
            task = tasks.ns[argv[0]]
            flags = {"--" + n.replace("_", "-") for a in task.get_arguments() for n in a.names if len(n) > 1}
            assert {a for a in argv[1:] if a.startswith("--")} <= flags, (job.name, argv, flags)


def test_actions_are_pinned_by_major_version_and_toolchain_matches_the_project():
    used = set()
    for f in FILES:
        wf = load(f)
        for job in wf["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
                    used.add(step["uses"].split("@")[0])
                    if step["uses"].startswith("actions/setup-python@"):
                        assert step["with"]["python-version"] == "3.11"
                    if step["uses"].startswith("actions/setup-node@"):
                        assert node_major(step["with"]["node-version"]) >= 22, f"{f.name}: Node 22 or newer"
    assert used == {
        "actions/checkout",
        "actions/setup-python",
        "actions/setup-node",
        "aws-actions/configure-aws-credentials",
    }


def node_major(version) -> int:
    """The major version of a setup-node ``node-version`` (22, "22", "22.x", "lts/*" is refused: not pinned)."""
    m = re.fullmatch(r"v?(\d+)(?:\.[\dx*]+)*", str(version))
    assert m, f"node-version {version!r} is not a pinned major version"
    return int(m.group(1))


@pytest.mark.parametrize("version,major", [(22, 22), ("22", 22), ("24.x", 24), ("v22.11.0", 22), (20, 20)])
def test_node_major(version, major):
    assert node_major(version) == major


@pytest.mark.parametrize("stem", ["dev", "qa", "prod"])
def test_verify_runs_after_the_publish_has_landed_and_fails_the_job(stem):
    """`inv verify` after every deploy, once the publish waited for its invalidation; a failing check fails the job."""
    job = effective_jobs(stem)["deploy"]
    commands = [argv[0] for argv in job.inv()]
    assert commands.index("frontend.publish") < commands.index("verify")
    assert "--wait" in job.inv()[commands.index("frontend.publish")]
    (step,) = [s for s in job.steps if ".venv/bin/inv verify" in s.get("run", "")]
    assert not step.get("continue-on-error") and "if" not in step
    assert "--user" not in step["run"]  # the deploy role may not create Cognito users


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_the_region_step_reads_the_env_file(env, tmp_path, envs_dir):
    """The step that gives configure-aws-credentials its region works, and follows envs/<env>.toml."""
    (envs_dir / f"{env}.toml").write_text(
        (envs_dir / f"{env}.toml").read_text().replace('region = "us-east-1"', 'region = "eu-central-1"')
    )
    job = effective_jobs(env)["deploy"]
    (step,) = [s for s in job.steps if s.get("id") == "env"]
    out = tmp_path / "github_output"
    result = subprocess.run(
        ["bash", "-e", "-c", render(step["run"], job.inputs)],
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "TM_ENV": env, "GITHUB_OUTPUT": str(out), "PATH": f"{BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "region=eu-central-1\n"


# ---- preview.yml: previews per pull request (docs/environments.md, "Previews") ----------------------------


def test_preview_workflow_deploys_comments_destroys_and_collects():
    wf = load(WORKFLOWS / "preview.yml")
    assert set(wf["on"]) == {"pull_request", "schedule", "workflow_dispatch"}
    assert {"opened", "synchronize", "closed"} <= set(wf["on"]["pull_request"]["types"])
    assert wf["on"]["schedule"] and wf["permissions"] == {"contents": "read"}
    jobs = effective_jobs("preview")
    assert set(jobs) == {"deploy", "destroy", "gc"}
    pr = "pr-${{ github.event.pull_request.number }}"
    deploy, destroy, gc = jobs["deploy"], jobs["destroy"], jobs["gc"]

    # on open/update: deploy dev-pr-<n>, build and publish its SPA, verify when available, one comment
    assert "action != 'closed'" in deploy.raw["if"] and "action == 'closed'" in destroy.raw["if"]
    assert [" ".join(argv) for argv in deploy.inv()[:3]] == [
        f"preview.deploy --env dev --name {pr}",
        f"frontend.build --env dev-{pr}",
        f"frontend.publish --env dev-{pr}",
    ]
    verify = next(s["run"] for s in deploy.steps if "verify" in s.get("name", "").lower())
    assert ".venv/bin/inv --list" in verify and ".venv/bin/inv verify --env" in verify  # run only when it exists
    comment = next(s for s in deploy.steps if "comment" in s.get("name", "").lower())
    assert comment["if"] == "always()"  # a failed deploy is reported too
    run = comment["run"]
    assert "<!-- tmkit-preview -->" in run and "-X PATCH" in run and "-X POST" in run  # updated in place
    assert "outputs.show" in run and "secrets.list" in run and "steps.site.outputs.url" in run
    assert deploy.permissions["pull-requests"] == "write" and deploy.permissions["id-token"] == "write"
    assert deploy.raw["concurrency"]["cancel-in-progress"] is False

    # on close: destroy it
    assert [" ".join(argv) for argv in destroy.inv()] == [f"preview.destroy --env dev --name {pr}"]
    assert render(destroy.raw["concurrency"]["group"], {}) == render(deploy.raw["concurrency"]["group"], {})

    # nightly: gc with the open pull requests kept; the list is read before AWS is touched
    assert "schedule" in gc.raw["if"]
    assert [" ".join(argv) for argv in gc.inv()] == ["preview.gc --env dev --keep ${{ steps.open.outputs.keep }}"]
    names = [s.get("id") or s.get("uses", "").split("@")[0] for s in gc.steps]
    assert names.index("open") < len(names) - 1 and "gh pr list" in gc.steps[names.index("open")]["run"]
    assert "--state open" in gc.steps[names.index("open")]["run"]

    for job in jobs.values():
        assert job.environment == "dev"
        assert job is gc or "!github.event.pull_request.head.repo.fork" in job.raw["if"]  # forks get no OIDC token
        (step,) = job.aws_steps()
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])
        runs = [s.get("run", "") for s in job.steps]
        assert (
            runs.index("make setup")
            < job.steps.index(step)
            < next(i for i, r in enumerate(runs) if ".venv/bin/inv preview." in r)
        )


def test_preview_workflow_commands_name_existing_tasks_and_flags():
    import tasks

    for job in effective_jobs("preview").values():
        for argv in job.inv():
            if argv[0] in ("--list", "verify"):  # the guarded optional verification
                continue
            task = tasks.ns[argv[0]]
            flags = {"--" + n.replace("_", "-") for a in task.get_arguments() for n in a.names if len(n) > 1}
            assert {a for a in argv[1:] if a.startswith("--")} <= flags, (job.name, argv, flags)
