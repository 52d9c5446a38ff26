"""Talking to the person at the terminal: messages on stderr, data on stdout, confirmations.

stdout carries only the data a task was asked for (so ``inv outputs.env > frontend/.env`` works);
everything else goes through ``say``.
"""
from __future__ import annotations

import sys
from typing import Iterable, Sequence

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
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
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
