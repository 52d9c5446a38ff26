"""Talking to the person at the terminal: messages on stderr, data on stdout, confirmations.

stdout carries only the data a task was asked for (so ``inv outputs.env > frontend/.env`` works);
everything else goes through ``say``.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from tmkit.errors import ToolkitError


def clip(text: str, limit: int = 40) -> str:
    """``text`` as a message may quote it: a pasted blob is cut to ``limit`` characters and "..."."""
    return text if len(text) <= limit else text[:limit] + "..."


def say(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


def data(text: str) -> None:
    """Write requested data to stdout (the only function that does)."""
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain aligned table on stderr."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()  # noqa: E731
    say(line(headers))
    say(line(["-" * w for w in widths]))
    for r in rows:
        say(line(r))


def confirm(question: str, *, expected: str = "yes", how_to_skip: str) -> None:
    """Ask on the terminal; anything but ``expected`` aborts. Without a terminal, refuse and say how to skip."""
    if not sys.stdin or not sys.stdin.isatty():
        raise ToolkitError(f"confirmation needed ({question}) but there is no terminal to ask. {how_to_skip}")
    sys.stderr.write(f"{question} Type '{expected}' to continue: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != expected:
        raise ToolkitError(f"aborted: you typed {answer!r}, not {expected!r}. Nothing was changed.")


# Every sensitive value is read with a bound: the largest one stored is a Secrets Manager SecretString.
MAX_HIDDEN_BYTES = 65536


def _drop_newline(raw: bytes) -> bytes:
    return raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw


def _decode(raw: bytes, label: str, source: str, max_bytes: int, limit_name: str) -> str:
    """Bytes read (at most ``max_bytes`` + 3) -> text, refusing what cannot be a value. Never quotes the bytes."""
    if len(raw) > max_bytes:
        raise ToolkitError(
            f"the {label} from {source} is larger than {limit_name} of {max_bytes} bytes "
            "(reading stopped there). Nothing was changed; store a smaller value."
        )
    if b"\x00" in raw:
        raise ToolkitError(
            f"the {label} from {source} contains a NUL byte (\\x00), which is binary data, not text. "
            "Nothing was changed; store text (base64-encode binary data) and retry."
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolkitError(
            f"the {label} from {source} is not UTF-8 text (invalid byte at offset {exc.start}). "
            "Nothing was changed; store UTF-8 text (base64-encode binary data) and retry."
        ) from None


def _read_file(path_text: str, label: str, flag: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file or a device; a clear error for anything else."""
    if not str(path_text).strip():
        raise ToolkitError(f"{flag} needs a file path: give the path of a file that holds only the {label}.")
    path = Path(path_text).expanduser()
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ToolkitError(
            f"{flag} {path_text}: no such file. Give the path of a file that holds only the {label}."
        ) from None
    except OSError as exc:
        raise ToolkitError(f"{flag} {path_text}: cannot read it ({exc.strerror}). Check the path and retry.") from None
    if stat.S_ISDIR(mode):
        raise ToolkitError(f"{flag} {path_text}: is a directory. Give the path of a file that holds only the {label}.")
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise ToolkitError(
            f"{flag} {path_text}: is a pipe or socket, not a file. Pipe the {label} on standard input "
            f"instead (leave out {flag})."
        )
    try:
        with open(path, "rb") as fh:
            if os.isatty(fh.fileno()):
                raise ToolkitError(
                    f"{flag} {path_text}: is a terminal, where the {label} would be echoed. Leave out "
                    f"{flag} to be asked for it with hidden input."
                )
            return fh.read(limit)
    except OSError as exc:
        raise ToolkitError(f"{flag} {path_text}: cannot read it ({exc.strerror}). Check the path and retry.") from None


def read_hidden(
    label: str,
    *,
    flag: str,
    from_file=None,
    stdin=None,
    prompt=None,
    max_bytes: int = MAX_HIDDEN_BYTES,
    limit_name: str = "the limit",
) -> tuple[str, str]:
    """A sensitive value (secret, password) and where it came from, never from argv.

    From ``from_file`` (the ``flag`` option), else piped standard input, else a hidden prompt asked twice.
    Exactly one trailing newline (``\\n`` or ``\\r\\n``) is removed from a file or piped input. At most
    ``max_bytes`` + 3 bytes are read (room for that newline, and one byte to see the value is too large),
    so ``< /dev/zero`` stops at once; values over ``max_bytes``, with a NUL byte or not UTF-8 are refused
    with a message that never quotes them (docs/secrets.md, "Seeding and changing a value").
    """
    stdin = sys.stdin if stdin is None else stdin
    prompt = prompt or getpass.getpass  # looked up per call (tests replace getpass.getpass)
    limit = max_bytes + 3
    if from_file is not None:
        source = f"the file {from_file}"
        raw = _read_file(from_file, label, flag, limit)
    elif stdin is not None and not stdin.isatty():
        source = "standard input"
        binary = getattr(stdin, "buffer", None)  # bytes, so undecodable input is refused, not a traceback
        raw = binary.read(limit) if binary is not None else stdin.read(limit).encode("utf-8", "surrogateescape")
    else:
        text = prompt(f"{label[:1].upper()}{label[1:]} (input hidden): ")
        if text and prompt(f"Repeat the {label}: ") != text:
            raise ToolkitError(f"the {label} typed twice did not match. Nothing was changed; run the command again.")
        return _decode(
            text.encode("utf-8", "surrogateescape"), label, "the prompt", max_bytes, limit_name
        ), "the prompt"
    return _decode(_drop_newline(raw), label, source, max_bytes, limit_name), source
