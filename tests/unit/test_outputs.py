"""Rendering stack outputs for the frontend."""

import json
import os

import pytest

from tests.helpers import free_port, run_program
from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.outputs import VITE_OUTPUTS, render_env, write_atomically
from tmkit.tasks import outputs as outputs_tasks

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/api/",
    "Region": "us-east-1",
    "UserPoolId": "us-east-1_AbC",
    "UserPoolClientId": "5abc",
    "EnvironmentName": "dev",
    "SiteUrl": "https://d111.cloudfront.net",
    "TableName": "TimeManagement-dev-data",
}


def test_env_format_has_only_vite_lines(envs_dir):
    text = render_env(load_env("dev"), OUTPUTS)
    lines = text.splitlines()
    assert len(lines) == len(VITE_OUTPUTS)
    assert all(line.startswith("VITE_") and "=" in line for line in lines)
    assert "VITE_API_URL=https://abc123.execute-api.us-east-1.amazonaws.com/api/" in lines
    assert "TimeManagement-dev-data" not in text  # not a frontend variable


def test_json_format(envs_dir):
    values = json.loads(render_env(load_env("dev"), OUTPUTS, "json"))
    assert values["VITE_USER_POOL_ID"] == "us-east-1_AbC" and set(values) == set(VITE_OUTPUTS)


def test_local_points_the_spa_at_the_local_server(envs_dir):
    values = json.loads(render_env(load_env("local"), OUTPUTS, "json"))
    assert values["VITE_API_URL"] == "/api" and values["VITE_COGNITO_ENDPOINT"] == "/cognito"


def test_missing_output_says_redeploy(envs_dir):
    with pytest.raises(ToolkitError, match="lacks the outputs UserPoolId.*inv deploy --env dev"):
        render_env(load_env("dev"), {k: v for k, v in OUTPUTS.items() if k != "UserPoolId"})


def test_unknown_format(envs_dir):
    with pytest.raises(ToolkitError, match="--format env"):
        render_env(load_env("dev"), OUTPUTS, "yaml")


def test_values_with_spaces_are_quoted(envs_dir):
    text = render_env(load_env("dev"), {**OUTPUTS, "SiteUrl": "a b"})
    assert 'VITE_SITE_URL="a b"' in text


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ToolkitError, match="disk full.*Nothing was written"):
        write_atomically(target, "NEW=1\n")
    assert target.read_text() == "OLD=1\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temp file left behind


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.is_dir()) for p in root.rglob("*"))


def _hostile_targets(tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("KEEP\n")
    readonly = tmp_path / "readonly.env"
    readonly.write_text("KEEP\n")
    readonly.chmod(0o444)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.env").symlink_to(tmp_path / "afile")
    return {
        "a directory": (tmp_path / "adir", "it is a directory"),
        "under a regular file": (tmp_path / "afile" / ".env", "is a file, not a directory"),
        "deep under a regular file": (tmp_path / "afile" / "x" / ".env", "is a file, not a directory"),
        "a missing directory": (tmp_path / "missing" / "sub" / ".env", "does not exist.*mkdir -p"),
        "a read-only file": (readonly, "read-only.*chmod u\\+w"),
        "a FIFO": (tmp_path / "fifo", "not a regular file"),
        "a symlink": (tmp_path / "link.env", "symbolic link"),
        "under /proc": ("/proc/self/tmkit-test.env", "/proc, /sys or /dev"),
        "/proc itself": ("/proc", "/proc, /sys or /dev"),
        "a device": ("/dev/null", "/proc, /sys or /dev"),
        "an empty path": ("", "needs a file path"),
    }


CASES = [
    "a directory",
    "under a regular file",
    "deep under a regular file",
    "a missing directory",
    "a read-only file",
    "a FIFO",
    "a symlink",
    "under /proc",
    "/proc itself",
    "a device",
    "an empty path",
]


@pytest.mark.parametrize("case", CASES)
def test_write_to_a_hostile_target_is_refused_and_changes_nothing(tmp_path, case):
    target, message = _hostile_targets(tmp_path)[case]
    before = _snapshot(tmp_path)
    with pytest.raises(ToolkitError, match=message) as exc:
        write_atomically(target, "NEW=1\n")
    assert "Nothing was written" in str(exc.value) or "needs a file path" in str(exc.value)
    assert _snapshot(tmp_path) == before  # nothing created (no directory, no temp file)
    assert (tmp_path / "afile").read_text() == "KEEP\n" and (tmp_path / "readonly.env").read_text() == "KEEP\n"


def test_write_creates_a_new_file_and_keeps_an_existing_files_mode(tmp_path):
    new = tmp_path / ".env"
    write_atomically(new, "A=1\n")
    assert new.read_text() == "A=1\n"
    new.chmod(0o640)
    write_atomically(new, "A=2\n")
    assert new.read_text() == "A=2\n" and (new.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


@pytest.fixture
def emulator_down(envs_dir, monkeypatch):
    """The local environment with nothing listening at its endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{free_port()}")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--format", "xml"], "unknown format 'xml'"),
        (["--format", ""], "unknown format ''"),
        (["--write", "/proc/self/x.env"], "/proc, /sys or /dev"),
        (["--write", ""], "--write needs a file path"),
    ],
)
def test_outputs_env_names_a_bad_argument_before_calling_aws(emulator_down, capsys, args, expected):
    code, out, err = run_program(capsys, outputs_tasks.ns, "outputs.env", "--env", "local", *args)
    assert code == 1 and out == ""
    assert expected in err and "not answering" not in err


def test_outputs_env_with_good_arguments_reaches_the_emulator(emulator_down, capsys, tmp_path):
    code, _, err = run_program(
        capsys, outputs_tasks.ns, "outputs.env", "--env", "local", "--write", str(tmp_path / "x")
    )
    assert code == 1 and "not answering" in err  # the checks above are not a blanket refusal
    assert not (tmp_path / "x").exists()
