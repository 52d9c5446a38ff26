"""docs/architecture.md's code-layout table names every module of the toolkit and the CDK app."""

import re

from tmkit.paths import ROOT


def layout_table() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return text[text.index("Code layout:") :].split("\n## ", 1)[0]


def test_every_module_is_in_the_code_layout_table():
    table = layout_table()
    named = set(re.findall(r"`([^`]+)`", table))
    missing = []
    for path in sorted([*ROOT.glob("tmkit/*.py"), *ROOT.glob("tmkit/*.js"), *ROOT.glob("infra/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if path.name == "__init__.py":
            continue
        listed = rel in named or any(rel.startswith(n.rstrip("/") + "/") and n.endswith("/") for n in named)
        listed = listed or (rel.startswith("infra/components/") and "infra/components/" in named)
        if not listed:
            missing.append(rel)
    for package in ("tmkit/tasks/", "tmkit/emulator/", "tmkit/publish/", "benchmarks/", "lambda/api/"):
        if package not in named:
            missing.append(package)
    assert not missing, f"add these to docs/architecture.md's code-layout table: {missing}"
