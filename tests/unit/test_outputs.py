"""Rendering stack outputs for the frontend."""

import json

import pytest

from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.outputs import VITE_OUTPUTS, render_env, write_atomically

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/api/",
    "Region": "us-east-1",
    "UserPoolId": "us-east-1_AbC",
    "UserPoolClientId": "5abc",
    "EnvironmentName": "dev",
    "SiteUrl": "https://d111.cloudfront.net",
    "TableName": "TimeManagement-dev-data",
}


def test_env_format_has_only_vite_lines(envs_dir):
    text = render_env(load_env("dev"), OUTPUTS)
    lines = text.splitlines()
    assert len(lines) == len(VITE_OUTPUTS)
    assert all(line.startswith("VITE_") and "=" in line for line in lines)
    assert "VITE_API_URL=https://abc123.execute-api.us-east-1.amazonaws.com/api/" in lines
    assert "TimeManagement-dev-data" not in text  # not a frontend variable


def test_json_format(envs_dir):
    values = json.loads(render_env(load_env("dev"), OUTPUTS, "json"))
    assert values["VITE_USER_POOL_ID"] == "us-east-1_AbC" and set(values) == set(VITE_OUTPUTS)


def test_local_points_the_spa_at_the_local_server(envs_dir):
    values = json.loads(render_env(load_env("local"), OUTPUTS, "json"))
    assert values["VITE_API_URL"] == "/api" and values["VITE_COGNITO_ENDPOINT"] == "/cognito"


def test_missing_output_says_redeploy(envs_dir):
    with pytest.raises(ToolkitError, match="lacks the outputs UserPoolId.*inv deploy --env dev"):
        render_env(load_env("dev"), {k: v for k, v in OUTPUTS.items() if k != "UserPoolId"})


def test_unknown_format(envs_dir):
    with pytest.raises(ToolkitError, match="--format env"):
        render_env(load_env("dev"), OUTPUTS, "yaml")


def test_values_with_spaces_are_quoted(envs_dir):
    text = render_env(load_env("dev"), {**OUTPUTS, "SiteUrl": "a b"})
    assert 'VITE_SITE_URL="a b"' in text


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")
    import os

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomically(target, "NEW=1\n")
    assert target.read_text() == "OLD=1\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temp file left behind
