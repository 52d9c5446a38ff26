"""Talking to the person at the terminal: messages on stderr, data on stdout, confirmations.

stdout carries only the data a task was asked for (so ``inv outputs.env > frontend/.env`` works);
everything else goes through ``say``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

from tmkit.errors import ToolkitError


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


def read_hidden(label: str, *, flag: str, from_file=None, stdin=None, prompt=None) -> tuple[str, str]:
    """A sensitive value (secret, password) and where it came from, never from argv.

    From ``from_file`` (the ``flag`` option), else piped standard input, else a hidden prompt asked twice.
    Exactly one trailing newline (``\\n`` or ``\\r\\n``) is removed from a file or piped input.
    """
    import getpass
    from pathlib import Path

    stdin = sys.stdin if stdin is None else stdin
    prompt = prompt or getpass.getpass  # looked up per call (tests replace getpass.getpass)
    if from_file is not None:
        path = Path(from_file).expanduser()
        if not path.is_file():
            raise ToolkitError(
                f"{flag} {from_file}: no such file. Give the path of a file that holds only the {label}."
            )
        try:
            text, source = path.read_text(encoding="utf-8"), f"the file {from_file}"
        except UnicodeDecodeError:
            raise ToolkitError(
                f"{flag} {from_file}: the file is not UTF-8 text. Save the {label} as UTF-8 text "
                "(base64-encode binary data) and retry."
            ) from None
    elif stdin is not None and not stdin.isatty():
        text, source = stdin.read(), "standard input"
    else:
        text = prompt(f"{label[:1].upper()}{label[1:]} (input hidden): ")
        if text and prompt(f"Repeat the {label}: ") != text:
            raise ToolkitError(f"the {label} typed twice did not match. Nothing was changed; run the command again.")
        return text, "the prompt"
    return (text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text), source
