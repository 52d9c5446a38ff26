"""Stack outputs: read from CloudFormation DescribeStacks (never from a file), rendered for people and the frontend."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from secrets import token_hex

from tmkit.aws import aws_errors, client
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

# Frontend variable <- stack output. The one place this mapping is written.
VITE_OUTPUTS = {
    "VITE_API_URL": "ApiUrl",
    "VITE_REGION": "Region",
    "VITE_USER_POOL_ID": "UserPoolId",
    "VITE_USER_POOL_CLIENT_ID": "UserPoolClientId",
    "VITE_ENVIRONMENT": "EnvironmentName",
    "VITE_SITE_URL": "SiteUrl",
}
# Offline, `inv local.serve` is the API and the Cognito front door (same origin, so no CORS):
# the emulator runs no Lambda, and the browser must not talk to it directly.
LOCAL_SERVE_OVERRIDES = {"VITE_API_URL": "/api", "VITE_COGNITO_ENDPOINT": "/cognito"}

_GONE = ("DELETE_COMPLETE",)


def not_deployed(cfg: EnvConfig) -> ToolkitError:
    return ToolkitError(f"stack {cfg.stack_name} is not deployed: run `inv deploy --env {cfg.name}` first.")


def _reading(cfg: EnvConfig, stack_name: str):
    return aws_errors(cfg, f"reading stack {stack_name}")


def cloudformation_client(cfg: EnvConfig):
    """The CloudFormation client ``describe_stack`` makes, for a caller that wants it made before the request."""
    with _reading(cfg, cfg.stack_name):
        return client(cfg, "cloudformation")


def describe_stack(cfg: EnvConfig, stack_name: str | None = None, cloudformation=None) -> dict | None:
    """The DescribeStacks entry of the environment's stack (or of ``stack_name`` in its account and region),
    or None when it does not exist. ``cloudformation``: the client to use (default: a new one)."""
    from botocore.exceptions import ClientError

    stack_name = stack_name or cfg.stack_name
    with _reading(cfg, stack_name):
        try:
            cfn = cloudformation or client(cfg, "cloudformation")
            stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
    stacks = [s for s in stacks if s.get("StackStatus") not in _GONE]
    return stacks[0] if stacks else None


def stack_outputs(cfg: EnvConfig, cloudformation=None) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of the deployed stack; ToolkitError when it is not deployed."""
    stack = describe_stack(cfg, cloudformation=cloudformation)
    if stack is None:
        raise not_deployed(cfg)
    status = stack["StackStatus"]
    if status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        raise ToolkitError(
            f"stack {cfg.stack_name} failed to create ({status}): fix the cause and rerun "
            f"`inv deploy --env {cfg.name}`."
        )
    if status == "CREATE_IN_PROGRESS":
        raise ToolkitError(
            f"stack {cfg.stack_name} is being created ({status}): wait for the running deploy to finish, then retry."
        )
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    if not outputs:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no outputs (status {stack['StackStatus']}): "
            f"rerun `inv deploy --env {cfg.name}`."
        )
    return outputs


def frontend_vars(cfg: EnvConfig, outputs: dict[str, str]) -> dict[str, str]:
    missing = sorted(out for out in VITE_OUTPUTS.values() if not outputs.get(out))
    if missing:
        raise ToolkitError(
            f"stack {cfg.stack_name} lacks the outputs {', '.join(missing)}: "
            f"redeploy with `inv deploy --env {cfg.name}`."
        )
    values = {var: outputs[out] for var, out in VITE_OUTPUTS.items()}
    if cfg.is_local:
        values.update(LOCAL_SERVE_OVERRIDES)
    return values


FORMATS = ("env", "json")


def check_format(fmt: str) -> str:
    """Refuse an unknown ``--format`` (called before any AWS call, so the message names the real problem)."""
    if fmt not in FORMATS:
        raise ToolkitError(f"unknown format {fmt!r}: use --format env or --format json.")
    return fmt


def render(values: dict[str, str], fmt: str = "env") -> str:
    if check_format(fmt) == "json":
        return json.dumps(values, indent=2, sort_keys=True) + "\n"
    return "".join(f"{k}={_env_quote(v)}\n" for k, v in values.items())


def render_env(cfg: EnvConfig, outputs: dict[str, str], fmt: str = "env") -> str:
    """The frontend's ``.env`` (or JSON) text from the stack outputs."""
    return render(frontend_vars(cfg, outputs), fmt)


def _env_quote(value: str) -> str:
    if value and all(ch.isalnum() or ch in "-_./:@+,=" for ch in value):
        return value
    return json.dumps(value)


# Kernel pseudo-filesystems: never a place for a file the user keeps (writing there is at best an error).
_PSEUDO_FS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _write_error(path: Path, problem: str, fix: str) -> ToolkitError:
    return ToolkitError(f"cannot write {path}: {problem}. Nothing was written; {fix}.")


def check_write_target(path: str | Path, flag: str = "--write") -> Path:
    """Refuse a target ``write_atomically`` must not touch; called before any AWS call.

    Allowed: a new file in an existing directory, or an existing writable regular file. Refused:
    an empty path, a directory, a symlink, a device/FIFO/socket, a read-only file, a path under a
    regular file or in a missing directory (never created), anything under /proc, /sys or /dev.
    """
    if not str(path).strip():
        raise ToolkitError(f"{flag} needs a file path, e.g. `{flag} frontend/.env`.")
    path = Path(path)
    fix = f"give {flag} a file path in an existing directory (e.g. frontend/.env)"
    resolved_parent = path.parent.resolve()
    if any(resolved_parent == fs or fs in resolved_parent.parents for fs in _PSEUDO_FS) or path.resolve() in _PSEUDO_FS:
        raise _write_error(path, "it is under /proc, /sys or /dev (kernel pseudo-filesystems)", fix)
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # an ancestor is a file: reported below
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise _write_error(path, "it is a symbolic link", f"name the file it points to ({path.resolve()}) instead")
        if stat.S_ISDIR(st.st_mode):
            raise _write_error(path, "it is a directory", f"{fix}, such as {path / '.env'}")
        if not stat.S_ISREG(st.st_mode):
            raise _write_error(path, "it is not a regular file (a device, FIFO or socket)", fix)
        if not st.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise _write_error(
                path, "the file is read-only", f"make it writable (`chmod u+w {path}`) or choose another path"
            )
        return path
    for ancestor in [path.parent, *path.parent.parents]:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise _write_error(path, f"{ancestor} is a file, not a directory", fix)
            break
    if not path.parent.is_dir():
        raise _write_error(
            path, f"the directory {path.parent} does not exist", f"create it first (`mkdir -p {path.parent}`)"
        )
    return path


def write_atomically(path: str | Path, text: str, flag: str = "--write") -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory and a rename: readers never see
    half a file, and a failure leaves the old file as it was. An existing file keeps its permissions."""
    path = check_write_target(path, flag)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None  # new file: 0o666 minus the umask, as the shell's `>` would create it
    tmp = path.parent / f".{path.name}.{token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fd = None
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            if fd is not None:
                os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, exc.strerror or str(exc), "check the path and its permissions, then retry") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
