"""`inv local.user` refuses a bad target before a password is asked for or read (no emulator needed)."""

import sys

import pytest

from tests.helpers import Terminal, env_toml, run_program
from tmkit.tasks import local as local_tasks


class Untouchable(Terminal):
    """A terminal whose use (a prompt or a read) fails the test."""

    def readline(self, *a):  # pragma: no cover - must not be reached
        raise AssertionError("the password was asked for before the arguments were checked")


@pytest.fixture
def envs(tmp_path, monkeypatch):
    (tmp_path / "local.toml").write_text(env_toml(4599))
    (tmp_path / "dev.toml").write_text(env_toml())
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", Untouchable())
    monkeypatch.setattr("getpass.getpass", Untouchable().readline)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--env", "local", "not-an-email"), "is not an email address"),
        (("--env", "dev", "me@example.com"), "creates users in the emulator only"),
    ],
)
def test_local_user_checks_its_target_before_the_password(envs, capsys, argv, message):
    code, out, err = run_program(capsys, local_tasks.ns, "local.user", *argv)
    assert code != 0
    assert message in err
    assert out == ""
