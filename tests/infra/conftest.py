"""Synthesize the CDK app once per session: one App holding every environment in envs/ (local included)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from tmkit.config import available_envs, load_env  # noqa: E402

ENV_NAMES = available_envs()


@pytest.fixture(scope="session")
def layer():
    """The Lambda dependency layer (built once from lambda/api/requirements.txt if missing)."""
    from tmkit.lambda_build import ensure_layer

    return ensure_layer()


@pytest.fixture(scope="session")
def assembly(layer, tmp_path_factory):
    """(outdir, {env: stack}) after one synth of an app with every environment and cdk-nag."""
    import aws_cdk as cdk

    from infra.app import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), stack_traces=False)
    stacks = build(app, ENV_NAMES)
    app.synth()  # raises ValidationFailed on an unacknowledged cdk-nag error
    return outdir, {s.cfg.name: s for s in stacks}


@pytest.fixture(scope="session")
def templates(assembly):
    from aws_cdk.assertions import Template

    _, stacks = assembly
    return {name: Template.from_stack(stack) for name, stack in stacks.items()}


@pytest.fixture(params=ENV_NAMES)
def env(request, templates, assembly):
    """One environment per parameter: a small bundle of what a test needs."""
    name = request.param

    class Env:
        cfg = load_env(name)
        stack = assembly[1][name]
        template = templates[name]
        json = templates[name].to_json()

        @classmethod
        def of_type(cls, rtype: str) -> dict:
            return {k: v for k, v in cls.json["Resources"].items() if v["Type"] == rtype}

        @classmethod
        def one(cls, rtype: str) -> tuple[str, dict]:
            found = cls.of_type(rtype)
            assert len(found) == 1, f"expected one {rtype}, found {sorted(found)}"
            return next(iter(found.items()))

    return Env
