"""The README's task table is the `inv --list` of the toolkit: same tasks, same one-line descriptions."""

import re
import subprocess
import sys

from tmkit.paths import ROOT


def inv_list() -> dict[str, str]:
    """Parse `inv --list` itself (names and the first line of each docstring)."""
    out = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    tasks: dict[str, str] = {}
    current = None
    for line in out.splitlines()[1:]:
        m = re.match(r"^  (\S+)(?:\s{2,}(.*))?$", line)
        if m:
            current = m.group(1)
            tasks[current] = (m.group(2) or "").strip()
        elif current and line.startswith("   "):
            tasks[current] += " " + line.strip()
    return tasks


def readme_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- tasks-table")[1].split("<!-- /tasks-table -->")[0]
    rows = re.findall(r"^\| `inv ([^`]+)` \| (.+?) \|$", block, flags=re.M)
    return {name: desc.strip() for name, desc in rows}


def test_readme_lists_exactly_the_tasks_of_inv_list():
    listed, documented = inv_list(), readme_table()
    assert sorted(documented) == sorted(listed), "README task table out of date: run `inv --list` and update it"


def test_readme_descriptions_match_the_docstrings():
    listed, documented = inv_list(), readme_table()
    for name, desc in documented.items():
        assert listed[name].startswith(desc.rstrip(".")[:60]), (name, desc, listed[name])


def test_readme_first_commands_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash")[1].split("```")[0]
    targets = re.findall(r"^make (\w+)", first_block, flags=re.M)
    assert targets == ["local", "test"]
    for t in targets:
        assert re.search(rf"^{t}:", makefile, flags=re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
