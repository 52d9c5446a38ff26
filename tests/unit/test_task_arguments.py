"""Task arguments are checked before the task body runs (so before any AWS call), through the real CLI parser."""

import pytest
from invoke import Collection, Context

from tests.helpers import free_port, run_program
from tmkit.tasks import frontend, local
from tmkit.tasks._base import tm_task

CALLS = []


@tm_task
def counted(c, env=None, count=3, name="x"):
    """A task with an int option: the body only records what it got."""
    CALLS.append((count, name))


NS = Collection("t", counted)


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "--count 'abc' is not a number: use e.g. --count 3."),
        ("1.5", "--count '1.5' is not a number"),
        ("", "--count '' is not a number"),
        ("-1", "--count '-1' must be 0 or more: use e.g. --count 3."),
    ],
)
def test_a_bad_whole_number_is_a_clean_error_and_the_body_never_runs(capsys, value, message):
    CALLS.clear()
    code, out, err = run_program(capsys, NS, "t.counted", "--count", value)
    assert code == 1 and out == "" and "Traceback" not in err
    assert message in err
    assert CALLS == []


def test_whole_numbers_arrive_as_int_and_defaults_are_kept(capsys):
    CALLS.clear()
    assert run_program(capsys, NS, "t.counted", "--count", "7")[0] == 0
    assert run_program(capsys, NS, "t.counted", "--name", "y")[0] == 0
    counted(Context(), count=5)  # a direct call (one task calling another) is checked the same way
    assert CALLS == [(7, "x"), (3, "y"), (5, "x")]


@pytest.fixture
def aws_down(envs_dir, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{free_port()}")


@pytest.mark.parametrize(
    "collection, argv, message",
    [
        (frontend.ns, ["frontend.publish", "--env", "local", "--timeout", "soon"], "--timeout 'soon' is not a number"),
        (frontend.ns, ["frontend.invalidate", "--env", "local", "--timeout", "-3"], "--timeout '-3' must be 0 or more"),
        (local.ns, ["local.serve", "--port", "abc"], "--port 'abc' is not a number: use e.g. --port 8080."),
        (frontend.ns, ["frontend.releases", "--env", ""], "--env is empty"),
        (frontend.ns, ["frontend.rollback", "--env", "../prod"], "unknown environment '../prod' from --env"),
    ],
)
def test_real_tasks_name_a_bad_argument_even_when_aws_is_down(aws_down, capsys, collection, argv, message):
    code, out, err = run_program(capsys, collection, *argv)
    assert code == 1 and out == ""
    assert message in err and "Traceback" not in err and "not answering" not in err


def test_a_reader_that_goes_away_ends_the_task_quietly(tmp_path):
    # `inv logs --follow | head -1`: stdout's reader exits; no traceback, no "Exception ignored" at exit
    import subprocess
    import sys

    script = tmp_path / "pipe.py"
    script.write_text(
        "from invoke import Context, Exit\n"
        "from tmkit.tasks._base import tm_task\n"
        "from tmkit.ui import data\n"
        "@tm_task\n"
        "def endless(c):\n"
        "    while True:\n"
        "        data('x' * 100)\n"
        "try:\n"
        "    endless(Context())\n"
        "except Exit as exc:\n"
        "    raise SystemExit(exc.code)\n"
    )
    from tmkit.paths import ROOT

    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
    )
    proc.stdout.read(10)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 141
