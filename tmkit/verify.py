"""`inv verify`: prove a deployed environment works, from the outside, as a browser and the SPA use it.

The checks are in tmkit/verify_checks.py. This module finds where the site, API and Cognito are (the
stack outputs), makes and removes the throwaway user of ``--user``, and runs everything. An
emulator-backed environment has no CloudFront or API Gateway to ask: the checks run against
`inv local.serve`'s server, started on a free loopback port for the duration (``local_site`` below).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from urllib.parse import urlsplit

from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.verify_checks import FAIL, Result, Target, Verifier, fetch

USER_PREFIX = "tmkit-verify-"  # throwaway users' emails start with it (never a real person's address)
STALE_AFTER_SECONDS = 3600


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise ToolkitError(
                "--url carries a user name or password: give the site address without them (https://HOST); "
                "`inv verify` never sends credentials in a URL."
            )
        port_ok = parts.port is None or parts.port > 0  # .port raises ValueError out of 0-65535 or not a number
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or not port_ok
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        shown = repr(url) if "@" not in url else "(not repeated: it holds '@')"
        raise ToolkitError(
            f"--url {shown} is not a site address: give it as https://HOST (e.g. https://app.example.com), "
            "without query or fragment."
        )


def require_outputs(cfg: EnvConfig, outputs: dict[str, str], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if not outputs.get(k)]
    if missing:
        raise ToolkitError(
            f"stack {cfg.stack_name} lacks the outputs {', '.join(missing)}: redeploy with "
            f"`inv deploy --env {cfg.name}`."
        )


def target_for(cfg: EnvConfig, outputs: dict[str, str], url: str | None = None) -> Target:
    """Where the site, API and Cognito are: the stack outputs, or ``url`` (a site URL) for the site."""
    if cfg.is_local:
        if not url:
            raise ValueError("an emulator-backed environment is checked through a local server's URL")
        check_url(url)
        if urlsplit(url).hostname not in LOOPBACK_NAMES:
            raise ToolkitError(
                f"--url {url!r} is not on loopback: environment '{cfg.name}' is emulator-backed, its site is "
                "`inv local.serve` on this machine (give http://127.0.0.1:PORT, or omit --url)."
            )
        base = url.rstrip("/")
        return Target(site=base, api=base + "/api/", cognito=base + "/cognito", local=True)
    require_outputs(cfg, outputs, ("SiteUrl", "ApiUrl", "Region"))
    if url:
        check_url(url)
    return Target(
        site=(url or outputs["SiteUrl"]).rstrip("/"),
        api=outputs["ApiUrl"].rstrip("/") + "/",
        cognito=f"https://cognito-idp.{outputs['Region']}.amazonaws.com/",
        local=False,
    )


# ---- the throwaway user -------------------------------------------------------------------------------
def throwaway_password() -> str:
    """A random password meeting the pool's policy (upper, lower, digit, symbol, >= 12); never printed."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(28)) + "aA1!"


def remove_stale_users(idp, pool_id: str, *, now: float, say: Callable[[str], None]) -> list[str]:
    """Delete throwaway users an interrupted run left behind (created more than ``STALE_AFTER_SECONDS`` ago;
    a younger one may belong to a run in progress). Best effort: a failure is reported, not raised."""
    from botocore.exceptions import BotoCoreError, ClientError

    removed = []
    try:
        for page in idp.get_paginator("list_users").paginate(UserPoolId=pool_id, Filter=f'email ^= "{USER_PREFIX}"'):
            for u in page["Users"]:
                if u["Username"] and now - u["UserCreateDate"].timestamp() > STALE_AFTER_SECONDS:
                    idp.admin_delete_user(UserPoolId=pool_id, Username=u["Username"])
                    removed.append(u["Username"])
    except (BotoCoreError, ClientError) as exc:
        say(f"warning: could not look for throwaway users left by an interrupted `inv verify --user` ({exc}).")
    if removed:
        say(f"removed {len(removed)} throwaway user(s) an interrupted `inv verify --user` left in pool {pool_id}")
    return removed


@contextlib.contextmanager
def throwaway_user(
    cfg: EnvConfig, pool_id: str, *, say: Callable[[str], None], clock: Callable[[], float] = time.time
) -> Iterator[tuple[str, str]]:
    """A confirmed user with a permanent password (AdminCreateUser + AdminSetUserPassword, as `inv local.user`
    does), deleted with AdminDeleteUser afterwards, also when a check or the creation fails halfway.
    A run killed before it could delete its user leaves it behind: the next run removes it."""
    from tmkit.aws import aws_errors, client

    email = f"{USER_PREFIX}{uuid.uuid4().hex[:12]}@example.com"
    password = throwaway_password()
    idp = client(cfg, "cognito-idp")
    remove_stale_users(idp, pool_id, now=clock(), say=say)
    with aws_errors(cfg, f"creating the throwaway user {email}"):
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )
    try:
        with aws_errors(cfg, f"setting the throwaway user's password ({email})"):
            idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
        yield email, password
    finally:
        try:
            with aws_errors(cfg, f"deleting the throwaway user {email}"):
                idp.admin_delete_user(UserPoolId=pool_id, Username=email)
        except Exception as exc:  # noqa: BLE001  (report, never hide the checks' outcome)
            say(
                f"warning: could not delete the throwaway user {email} from pool {pool_id} ({exc}); delete it with "
                f"`aws cognito-idp admin-delete-user --user-pool-id {pool_id} --username {email}`."
            )


# ---- the one call into `inv local.serve` ------------------------------------------------------------------
@contextlib.contextmanager
def local_site(cfg: EnvConfig, log: list[str]) -> Iterator[str]:
    """`inv local.serve` for ``cfg`` on a free loopback port for the duration; yields its URL.

    The only place this module uses tmkit/localserve.py. Its log lines go to ``log``, not the terminal.
    """
    from tmkit import localserve

    serve = localserve.prepare(cfg)
    serve.say = log.append
    with serve.running(0) as server:  # port 0: the kernel picks a free port, no race
        yield f"http://127.0.0.1:{server.server_address[1]}"


# ---- the whole run ------------------------------------------------------------------------------------
def verify_env(
    cfg: EnvConfig, *, url: str | None = None, user: bool = False, say: Callable[[str], None]
) -> list[Result]:
    """Every check against ``cfg``'s deployed environment; each result is reported through ``say`` as it comes."""
    from tmkit.outputs import stack_outputs

    if url:
        check_url(url)
    if not cfg.is_local:
        from tmkit.aws import check_account

        check_account(cfg)  # the outputs (and a --user's pool) are those of the account the env declares
    outputs = stack_outputs(cfg)
    log: list[str] = []
    with contextlib.ExitStack() as stack:
        if cfg.is_local and not url:
            url = stack.enter_context(local_site(cfg, log))
            say(f"verifying {cfg.stack_name} through a local server at {url} (`inv local.serve`)")
        target = target_for(cfg, outputs, url)
        if not cfg.is_local:
            say(f"verifying {cfg.stack_name}: site {target.site}, API {target.api}")
        v = Verifier(target, fetch=fetch, report=lambda r: say(r.line()))
        v.site_checks()
        v.api_checks()
        if user:
            require_outputs(cfg, outputs, ("UserPoolId", "UserPoolClientId"))
            pool, client_id = outputs["UserPoolId"], outputs["UserPoolClientId"]
            with throwaway_user(cfg, pool, say=say) as (email, password):
                say(f"signed-in round trip as the throwaway user {email} (deleted afterwards)")
                v.user_checks(client_id, email, password)
    if log and any(r.status == FAIL for r in v.results):
        say("local server log (last lines):\n  " + "\n  ".join(log[-15:]))
    return v.results


def as_json(cfg: EnvConfig, results: list[Result]) -> str:
    return json.dumps(
        {
            "environment": cfg.name,
            "ok": not any(r.status == FAIL for r in results),
            "checks": [asdict(r) for r in results],
        },
        indent=2,
    )


def failed(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status == FAIL]
