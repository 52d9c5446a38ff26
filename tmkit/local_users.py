"""`inv local.user`: a confirmed demo user with a permanent password in the emulator's user pool."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable

from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PASSWORD_SYMBOLS = "!@#%^*_+-="


def generate_password(length: int = 20) -> str:
    """A throwaway emulator password that meets the pool's policy (upper, lower, digit, symbol, >= 12)."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, PASSWORD_SYMBOLS)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def read_password(*, password_file: str | None = None, stdin=None, prompt: Callable[[str], str] | None = None) -> str:
    """The password from ``password_file``, else piped standard input, else a hidden prompt (asked twice).

    Never from the command line. One trailing newline is removed from a file or piped input.
    """
    from tmkit.ui import read_hidden

    text, source = read_hidden("password", flag="--password-file", from_file=password_file, stdin=stdin, prompt=prompt)
    if not text:
        raise ToolkitError(
            f"the password from {source} is empty. Nothing was changed. Pipe it in, type it at the "
            "prompt, use --password-file PATH, or --generate."
        )
    return text


def check_target(cfg: EnvConfig, email: str) -> None:
    """Refuse a real environment or a malformed email before a password is asked for or read."""
    if not cfg.is_local:
        raise ToolkitError(
            f"`inv local.user` creates users in the emulator only; '{cfg.name}' is a real AWS "
            "environment (create its users in the Cognito console or with `aws cognito-idp`). "
            "Use --env local."
        )
    if not re.fullmatch(_EMAIL_RE, email or ""):
        raise ToolkitError(
            f"{email!r} is not an email address; the user pool signs people in by email. "
            "Give one like demo@example.com."
        )


def create_user(cfg: EnvConfig, email: str, password: str) -> tuple[str, bool]:
    """A confirmed user with a permanent password in the stack's user pool (emulator only).

    Returns (pool id, created): an existing user keeps its attributes and gets the new password.
    """
    from botocore.exceptions import ClientError

    from tmkit import emulator
    from tmkit.aws import aws_errors, client
    from tmkit.outputs import stack_outputs

    check_target(cfg, email)
    emulator.require_running(cfg)
    pool = stack_outputs(cfg).get("UserPoolId")
    if not pool:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no UserPoolId output: redeploy it with `inv deploy --env {cfg.name}`."
        )
    idp = client(cfg, "cognito-idp")
    created = True
    with aws_errors(cfg, f"creating user {email}"):
        try:
            try:
                idp.admin_create_user(
                    UserPoolId=pool,
                    Username=email,
                    MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "UsernameExistsException":
                    raise
                created = False
            # A permanent password: the user is CONFIRMED and signs in without the new-password challenge.
            idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        except ClientError as exc:
            err = exc.response["Error"]
            if err["Code"] == "InvalidPasswordException":
                raise ToolkitError(
                    f"the password does not meet the user pool's policy ({err.get('Message')}): use "
                    "12 or more characters with upper and lower case letters, a digit and a symbol, "
                    "or --generate."
                ) from None
            raise ToolkitError(
                f"the emulator refused to create {email} ({err['Code']}: {err.get('Message')}). "
                f"Check that the stack is deployed (`inv deploy --env {cfg.name}`)."
            ) from None
    return pool, created
