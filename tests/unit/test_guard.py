"""tmkit/guard.py's call into node (tmkit/stateful_diff.js): a missing node, a failing script or an answer that
is not the expected JSON is an error that says nothing was changed, never "no stateful changes"."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tmkit import guard
from tmkit.errors import ToolkitError

TABLE = {"Resources": {"DataTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"A": 1}]}}}}
CHANGED = {"Resources": {"DataTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"B": 2}]}}}}


def fake_node(tmp_path: Path, monkeypatch, body: str) -> None:
    """A `node` first on PATH that runs ``body`` (Python) instead of the script."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.read()\n{body}\n")
    node.chmod(node.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(guard, "NODE_MODULE", tmp_path)  # "installed"


@pytest.mark.parametrize(
    "body",
    [
        "print('')",  # nothing
        "print('not json')",
        "print('{\"logicalId\": 1}')",  # JSON, not a list of changes
        'print(\'[{"logicalId": "X"}]\')',  # a change without its fields
    ],
)
def test_an_answer_that_is_not_a_list_of_changes_is_an_error(tmp_path, monkeypatch, body):
    fake_node(tmp_path, monkeypatch, body)
    with pytest.raises(
        ToolkitError, match="the stateful-resource check gave an unreadable answer.*Nothing was changed"
    ):
        guard.classify({}, TABLE)


def test_a_failing_script_is_an_error_with_its_message(tmp_path, monkeypatch):
    fake_node(tmp_path, monkeypatch, "sys.stderr.write('TypeError: boom'); sys.exit(3)")
    with pytest.raises(ToolkitError, match="the stateful-resource check failed: TypeError: boom. Nothing was changed"):
        guard.classify({}, TABLE)


def test_without_node_it_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "NODE_MODULE", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolkitError, match="node is not installed"):
        guard.classify({}, TABLE)


@pytest.mark.skipif(not guard.NODE_MODULE.is_dir(), reason="node_modules not installed")
def test_the_real_script_classifies_a_key_change_and_odd_templates():
    changes = guard.classify(TABLE, CHANGED)
    assert [(c.logical_id, c.impact) for c in changes] == [("DataTable", "WILL_REPLACE")]
    odd = {"Resources": {"Über\u202e": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "x\x00"}}}}
    assert [c.impact for c in guard.classify(odd, {"Resources": {}})] == ["WILL_DESTROY"]
