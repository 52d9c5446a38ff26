"""tmkit.lambda_build: keyed by the requirements' hash, built once, atomically; synth never runs pip."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tmkit import lambda_build
from tmkit.errors import ToolkitError


@pytest.fixture
def fake_pip(tmp_path):
    """A stand-in for `python -m pip` that records its calls and fills --target (or fails on demand)."""
    script = tmp_path / "fake_pip.py"
    log = tmp_path / "pip-calls.log"
    script.write_text(
        textwrap.dedent(f"""
        import os, sys
        args = sys.argv[1:]
        open({str(log)!r}, "a").write(" ".join(args) + "\\n")
        if os.environ.get("FAKE_PIP_FAIL"):
            print("ERROR: No matching distribution found for nothing==0", file=sys.stderr)
            sys.exit(1)
        target = args[args.index("--target") + 1]
        os.makedirs(os.path.join(target, "pkg", "__pycache__"))
        os.makedirs(os.path.join(target, "bin"))
        open(os.path.join(target, "pkg", "__init__.py"), "w").write("X = 1\\n")
        open(os.path.join(target, "pkg", "__pycache__", "x.pyc"), "w").write("junk")
        open(os.path.join(target, "bin", "tool"), "w").write("#!/some/venv/python\\n")
    """)
    )
    return [sys.executable, str(script)], log


@pytest.fixture
def reqs(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("aws-lambda-powertools==3.37.0\n")
    return path


def test_key_follows_requirements_content(reqs):
    first = lambda_build.layer_key(reqs)
    assert first == lambda_build.layer_key(reqs)
    reqs.write_text("aws-lambda-powertools==3.38.0\n")
    assert lambda_build.layer_key(reqs) != first


def test_build_once_then_no_op(tmp_path, reqs, fake_pip):
    pip, log = fake_pip
    layers = tmp_path / "layers"
    built = lambda_build.ensure_layer(reqs, layers, pip=pip)
    assert built == lambda_build.layer_dir(reqs, layers)
    assert (built / "python" / "pkg" / "__init__.py").read_text() == "X = 1\n"
    assert not list(built.rglob("__pycache__")) and not (built / "python" / "bin").exists()  # machine-specific bits
    call = log.read_text()
    for option in (
        "--platform manylinux2014_x86_64",
        "--only-binary=:all:",
        "--python-version 3.14",
        "--implementation cp",
        "--no-compile",
        f"-r {reqs}",
    ):
        assert option in call
    assert lambda_build.ensure_layer(reqs, layers, pip=pip) == built
    assert len(log.read_text().splitlines()) == 1  # second call did not run pip
    assert [p.name for p in layers.iterdir()] == [built.name]  # no temp dirs left
    assert lambda_build.require_layer(reqs, layers) == built


def test_failed_build_leaves_nothing_and_says_what_to_do(tmp_path, reqs, fake_pip, monkeypatch):
    pip, _ = fake_pip
    layers = tmp_path / "layers"
    monkeypatch.setenv("FAKE_PIP_FAIL", "1")
    with pytest.raises(ToolkitError, match="No matching distribution") as exc:
        lambda_build.ensure_layer(reqs, layers, pip=pip)
    assert "retry" in str(exc.value)
    assert list(layers.iterdir()) == []


def test_missing_layer_is_an_error_not_a_pip_run(tmp_path, reqs):
    with pytest.raises(ToolkitError, match=r"inv lambda.build"):
        lambda_build.require_layer(reqs, tmp_path / "layers")
    assert not (tmp_path / "layers").exists()


def test_missing_requirements_file(tmp_path):
    with pytest.raises(ToolkitError, match="requirements.txt is missing"):
        lambda_build.layer_key(tmp_path / "requirements.txt")
