"""tmkit.secrets without AWS: where a value comes from, what is refused, the placeholder rule, messages."""

import io
import os
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
    with pytest.raises(ToolkitError, match="no such file"):
        secrets.read_value("K", from_file=str(tmp_path / "nope" / "deeper"))
    f = tmp_path / "bin"
    f.write_bytes(b"\xff\xfeCANARY")
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


class BinaryPipe(io.TextIOWrapper):
    """Piped standard input as the process gets it: text on top of bytes, which may not decode.

    Counts the bytes the reader asks for, so a test can see that reading is bounded.
    """

    def __init__(self, raw: bytes | None = None, *, endless: bytes | None = None):
        self.requested = 0
        outer = self

        class Source(io.RawIOBase):
            def readable(self):
                return True

            def readinto(self, buf):
                chunk = (endless * (len(buf) // len(endless) + 1))[: len(buf)] if endless else b""
                if not endless:
                    chunk = outer._rest[: len(buf)]
                    outer._rest = outer._rest[len(chunk) :]
                outer.requested += len(chunk)
                buf[: len(chunk)] = chunk
                return len(chunk)

            def isatty(self):
                return False

        self._rest = raw or b""
        super().__init__(io.BufferedReader(Source()), encoding="utf-8")


CANARY = b"CANARY-5e21"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\xff\xfe" + CANARY, "not UTF-8 text"),
        (CANARY + b"\xc3", "not UTF-8 text"),  # truncated multi-byte character
        (CANARY + b"\x00tail", "NUL byte"),
        (b"\x00", "NUL byte"),
    ],
)
def test_binary_stdin_is_refused_cleanly_without_echoing_it(raw, message):
    with pytest.raises(ToolkitError, match=message) as exc:
        secrets.read_value("K", stdin=BinaryPipe(raw))
    msg = str(exc.value)
    assert "standard input" in msg and "Nothing was changed" in msg
    assert "CANARY" not in msg and "\\x00tail" not in msg


def test_utf8_stdin_bytes_are_accepted():
    assert secrets.read_value("K", stdin=BinaryPipe("h\u00e9llo \u2603\n".encode())) == "h\u00e9llo \u2603"


def test_endless_stdin_is_read_with_a_bound_and_refused():
    endless = BinaryPipe(endless=b"\x00")  # what `< /dev/zero` gives
    with pytest.raises(ToolkitError, match="larger than Secrets Manager's limit of 65536 bytes"):
        secrets.read_value("K", stdin=endless)
    # at most the limit + room for a CRLF + one byte, plus one read-ahead buffer of the wrapper
    assert endless.requested <= secrets.MAX_VALUE_BYTES + 3 + io.DEFAULT_BUFFER_SIZE


def test_the_limit_counts_the_value_not_its_trailing_newline():
    limit = secrets.MAX_VALUE_BYTES
    assert len(secrets.read_value("K", stdin=BinaryPipe(b"x" * limit + b"\r\n"))) == limit
    with pytest.raises(ToolkitError, match="limit"):
        secrets.read_value("K", stdin=BinaryPipe(b"x" * (limit + 1) + b"\n"))
    with pytest.raises(ToolkitError, match="limit"):
        secrets.read_value("K", stdin=BinaryPipe("\u00e9".encode() * (limit // 2 + 1)))  # bytes, not characters


def test_from_file_dev_zero_is_refused_as_too_large():
    with pytest.raises(ToolkitError, match="larger than Secrets Manager's limit"):
        secrets.read_value("K", from_file="/dev/zero")


def test_from_file_with_a_nul_byte_is_refused(tmp_path):
    f = tmp_path / "v"
    f.write_bytes(CANARY + b"\x00")
    with pytest.raises(ToolkitError, match="NUL byte") as exc:
        secrets.read_value("K", from_file=str(f))
    assert "CANARY" not in str(exc.value)


def test_from_file_directory_fifo_and_terminal_are_refused(tmp_path):
    with pytest.raises(ToolkitError, match="--from-file needs a file path"):
        secrets.read_value("K", from_file="")

    with pytest.raises(ToolkitError, match="is a directory"):
        secrets.read_value("K", from_file=str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would block until a writer comes: it must not be opened
    with pytest.raises(ToolkitError, match="pipe or socket.*standard input"):
        secrets.read_value("K", from_file=str(fifo))
    leader, follower = os.openpty()
    try:
        with pytest.raises(ToolkitError, match="is a terminal.*hidden input"):
            secrets.read_value("K", from_file=os.ttyname(follower))
    finally:
        os.close(leader)
        os.close(follower)
