"""botocore sessions and clients for one environment: region, credentials, endpoint, retries.

Every AWS call of the toolkit goes through ``client(cfg, service)`` and runs inside
``aws_errors(cfg)``, which turns the SDK's exceptions into ``ToolkitError`` messages that say
what to do. On an emulator-backed environment the credentials are fixed fake ones, so a real
profile in the shell can never be used against it (and vice versa).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping

from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def credentials_env(cfg: EnvConfig) -> dict[str, str]:
    """Environment variables for a child process (CDK CLI, awscli) that talks to ``cfg``'s AWS."""
    env = {"AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region}
    if cfg.endpoint_url:
        env["AWS_ENDPOINT_URL"] = cfg.endpoint_url
    if cfg.is_local:
        env.update(
            AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS["aws_secret_access_key"],
            AWS_SESSION_TOKEN="",
            AWS_PROFILE="",
        )
    return env


class _Shared:
    """One botocore session and the lock that serialises ``create_client`` on it (botocore sessions are not
    thread-safe; the clients they make are)."""

    def __init__(self, session) -> None:
        self.session = session
        self.lock = threading.Lock()


# (profile, region, endpoint, emulator?) -> the process's one session for it (docs/architecture.md, "Start-up").
_sessions: dict[tuple, _Shared] = {}
_sessions_lock = threading.Lock()


def _session_key(cfg: EnvConfig) -> tuple:
    profile = None if cfg.is_local else (os.environ.get("AWS_PROFILE") or None)
    return (profile, cfg.region, cfg.endpoint_url, cfg.is_local)


def _new_session(profile: str | None, region: str, local: bool):
    import botocore.session

    from tmkit.aws_models import create_loader

    session = botocore.session.Session(profile=profile)
    if local:
        # The emulator gets the fake credentials, never a profile from the shell (which may not even exist).
        session.get_component("config_store").set_config_variable("profile", None)
    session.set_config_variable("region", region)
    # botocore's loader, cheaper on a process's first clients (tmkit/aws_models.py); same AWS_DATA_PATH.
    session.register_component("data_loader", create_loader(session.get_config_variable("data_path")))
    return session


def _shared(cfg: EnvConfig) -> _Shared:
    key = _session_key(cfg)
    shared = _sessions.get(key)
    if shared is None:
        with _sessions_lock:
            shared = _sessions.get(key)
            if shared is None:
                shared = _sessions[key] = _Shared(_new_session(key[0], cfg.region, cfg.is_local))
    return shared


def session(cfg: EnvConfig):
    """The botocore session every client for ``cfg`` is made from: one per (profile, region, endpoint) per process,
    so service models, endpoint rules and credentials are loaded once."""
    return _shared(cfg).session


def client(cfg: EnvConfig, service: str, *, max_pool: int = 10, **kwargs):
    """A botocore client for ``service`` in ``cfg``'s region, account and endpoint, from the shared session."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 2 if cfg.is_local else 5},
        connect_timeout=2 if cfg.is_local else 10,
        read_timeout=60,
        max_pool_connections=max_pool,
    )
    shared = _shared(cfg)
    credentials = FAKE_CREDENTIALS if cfg.is_local else {}
    with shared.lock:
        return shared.session.create_client(
            service, region_name=cfg.region, endpoint_url=cfg.endpoint_url, config=config, **credentials, **kwargs
        )


class Later:
    """A client being made in a background thread (``client_later``)."""

    def __init__(self, make) -> None:
        self._made, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(make,), name="tmkit-client", daemon=True)
        self._thread.start()

    def _run(self, make) -> None:
        try:
            self._made = make()
        except BaseException as exc:  # handed to the caller of get(), in its thread
            self._error = exc

    def get(self):
        """The client, once made (waits for it); raises what making it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._made


def client_later(cfg: EnvConfig, service: str, **kwargs) -> Later:
    """Start making ``client(cfg, service, **kwargs)`` in a background thread; ``.get()`` returns it.

    Making a client is CPU work (loading its service model); started just before a request, it runs while
    that request waits on the network. Start it once the session's first client exists: clients are made
    one at a time per session, so starting it earlier delays that first client instead."""
    return Later(lambda: client(cfg, service, **kwargs))


def emulator_hint(cfg: EnvConfig) -> str:
    return (
        f"the AWS emulator for environment '{cfg.name}' is not answering at {cfg.endpoint_url}. "
        "Start it with `inv local.up` (or check AWS_ENDPOINT_URL)."
    )


# Error codes AWS answers when the credentials are valid but not allowed the call.
DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


@contextlib.contextmanager
def aws_errors(
    cfg: EnvConfig,
    action: str = "calling AWS",
    *,
    denied: str | None = None,
    codes: Mapping[str, str] | None = None,
    otherwise: str | None = None,
) -> Iterator[None]:
    """Translate SDK failures a user can fix into ToolkitError with the fix in the message.

    Always: unreachable endpoint (or emulator), missing/expired/rejected credentials. Then, for the
    service's own refusals (``ClientError``), in this order: ``codes`` maps an error code to the whole
    message; ``denied`` is what to do when AWS denies the call (``AWS denied <action> (<code>). <denied>``);
    ``otherwise`` is what to do for any other refusal (``<action> failed (<code>: <AWS message>). <otherwise>``).
    A refusal none of them covers is re-raised for the caller. The one place AccessDenied is translated.
    """
    from botocore import exceptions as bex

    try:
        yield
    except (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError) as exc:
        if cfg.is_local:
            raise ToolkitError(emulator_hint(cfg)) from None
        raise ToolkitError(
            f"{action}: cannot reach AWS ({exc}). Check the network and the region {cfg.region!r}."
        ) from None
    except (bex.NoCredentialsError, bex.PartialCredentialsError):
        raise ToolkitError(
            f"{action}: no AWS credentials found. Set AWS_PROFILE to a configured profile "
            "(or run `aws configure sso` to create one) and retry."
        ) from None
    except bex.ProfileNotFound as exc:
        raise ToolkitError(
            f"{action}: {exc}. Set AWS_PROFILE to a profile in ~/.aws/config (`aws configure sso` creates one)."
        ) from None
    except bex.TokenRetrievalError:
        raise ToolkitError(f"{action}: your SSO session has expired. Run `aws sso login` and retry.") from None
    except bex.ClientError as exc:
        code = error_code(exc)
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
            raise ToolkitError(
                f"{action}: your AWS credentials have expired. Refresh them (`aws sso login`, or new keys) and retry."
            ) from None
        if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"):
            raise ToolkitError(
                f"{action}: AWS rejected the credentials ({code}). Check AWS_PROFILE or run `aws configure sso`."
            ) from None
        if codes and code in codes:
            raise ToolkitError(codes[code]) from None
        if denied is not None and code in DENIED_CODES:
            raise ToolkitError(f"AWS denied {action} ({code}). {denied}") from None
        if otherwise is not None:
            message = exc.response.get("Error", {}).get("Message") or ""
            detail = f"{code or 'unknown error'}: {message}" if message else code or "unknown error"
            raise ToolkitError(f"{action} failed ({detail}). {otherwise}") from None
        raise


def caller_account(cfg: EnvConfig) -> str:
    """The account id of the current credentials (STS GetCallerIdentity)."""
    with aws_errors(cfg, "checking your AWS identity"):
        return client(cfg, "sts").get_caller_identity()["Account"]


def check_account(cfg: EnvConfig) -> str:
    """Refuse to go on when the credentials belong to another account than the env declares."""
    account = caller_account(cfg)
    expected = cfg.expected_account
    if expected and account != expected:
        raise ToolkitError(
            f"wrong AWS account: your credentials are for account {account}, but envs/{cfg.name}.toml "
            f"declares account {expected}. Switch AWS_PROFILE to a profile for {expected} and retry. "
            "Nothing was changed."
        )
    return account
