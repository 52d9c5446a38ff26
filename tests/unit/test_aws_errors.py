"""tmkit.aws.aws_errors: the one place SDK failures (AccessDenied included) become ToolkitError messages."""

import pytest
from botocore.exceptions import ClientError

from tmkit.aws import aws_errors
from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.paths import ROOT


def refusal(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "PutSecretValue")


@pytest.fixture
def cfg(envs_dir):
    return load_env("dev")


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"])
def test_denied_names_the_action_the_code_and_the_fix(cfg, code):
    with pytest.raises(ToolkitError) as exc, aws_errors(cfg, "writing secret S", denied="Use credentials allowed X."):
        raise refusal(code, "User: arn:aws:iam::1:user/u is not authorized")
    assert str(exc.value) == f"AWS denied writing secret S ({code}). Use credentials allowed X."


def test_codes_win_then_otherwise_words_any_other_refusal(cfg):
    kwargs = {"codes": {"ResourceNotFoundException": "deploy first."}, "denied": "D.", "otherwise": "Retry later."}
    with pytest.raises(ToolkitError, match="^deploy first.$"), aws_errors(cfg, "reading", **kwargs):
        raise refusal("ResourceNotFoundException")
    with pytest.raises(ToolkitError) as exc, aws_errors(cfg, "reading", **kwargs):
        raise refusal("ThrottlingException", "Rate exceeded")
    assert str(exc.value) == "reading failed (ThrottlingException: Rate exceeded). Retry later."


def test_without_a_rule_the_refusal_reaches_the_caller(cfg):
    with pytest.raises(ClientError), aws_errors(cfg, "reading"):
        raise refusal("AccessDenied")
    with pytest.raises(ClientError), aws_errors(cfg, "reading", denied="D."):
        raise refusal("ResourceNotFoundException")


def test_expired_credentials_are_worded_before_any_rule(cfg):
    with pytest.raises(ToolkitError, match="credentials have expired"), aws_errors(cfg, "x", otherwise="O."):
        raise refusal("ExpiredToken")


def test_access_denied_is_translated_in_one_place():
    """No module spells the AccessDenied codes but tmkit/aws.py (pass ``denied=`` to aws_errors instead)."""
    spelled = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "tmkit").rglob("*.py")
        if p.name != "aws.py" and "AccessDenied" in p.read_text(encoding="utf-8")
    )
    assert spelled == []
