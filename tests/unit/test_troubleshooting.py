"""Every error message the toolkit can raise is listed in docs/troubleshooting.md with its cause and fix.

The messages are found in the source: each ``ToolkitError(...)`` call's message, reduced to its first literal
fragment of 12 or more characters (f-string placeholders vary at run time). A new message without a docs entry fails this test.
"""

import ast

import pytest

from tmkit.paths import ROOT

SOURCES = sorted(p for p in (ROOT / "tmkit").rglob("*.py")) + [
    ROOT / "infra" / "app.py",
    ROOT / "infra" / "deploy_role.py",
]


def _literal_parts(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for v in node.values:
            yield from _literal_parts(v)
    elif isinstance(node, ast.BinOp):  # "a" + "b"
        yield from _literal_parts(node.left)
        yield from _literal_parts(node.right)


def error_fragments():
    found = []
    for path in SOURCES:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "ToolkitError"
            ):
                if not node.args:
                    continue
                parts = [p.strip(" .:;,'\"`(") for p in _literal_parts(node.args[0])]
                parts = [p for p in parts if len(p) >= 12]
                if parts:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", parts[0]))
    return found


def test_the_scan_finds_the_messages():
    fragments = [f for _, f in error_fragments()]
    assert len(fragments) > 20
    assert any("is not deployed" in f for f in fragments)


@pytest.mark.parametrize("where,fragment", error_fragments(), ids=lambda v: v if ":" in str(v) else None)
def test_error_message_is_documented(where, fragment):
    doc = (ROOT / "docs" / "troubleshooting.md").read_text()
    normalized = " ".join(doc.split())
    assert " ".join(fragment.split()) in normalized, f"{where}: add {fragment!r} to docs/troubleshooting.md"
