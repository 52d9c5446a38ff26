"""Previews: short-lived copies of an environment (``BASE-<slug>``), found by their stack's tags and name.

A preview has no env file. It exists while its stack does: ``find_preview`` rebuilds its ``EnvConfig``
from the base's file and the stack's tags; while ``preview.deploy`` creates it, the toolkit passes the
new config to the CDK app through ``TM_PREVIEW`` (``creating``). The decisions (naming, expiry, limits,
cleanup) are recorded in docs/environments.md, "Previews".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from tmkit import naming
from tmkit.config import EnvConfig, available_envs, derive_preview, load_env
from tmkit.errors import ToolkitError
from tmkit.outputs import describe_stack
from tmkit.ui import clip

MARKER_VAR = "TM_PREVIEW"  # JSON {"name", "tags"} of the preview being deployed (read by the CDK app)
TAG_PREVIEW, TAG_OF, TAG_EXPIRES = "preview", "preview-of", "expires-at"
TAG_BRANCH, TAG_COMMIT, TAG_USER = "git-branch", "git-commit", "created-by"
PREVIEW_TAGS = (TAG_PREVIEW, TAG_OF, TAG_EXPIRES, TAG_BRANCH, TAG_COMMIT, TAG_USER)
_TAG_VALUE_BAD = re.compile(r"[^\w .:/=+\-@]")  # AWS tag values: letters, digits, spaces and _.:/=+-@


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tag_value(text: str) -> str:
    return _TAG_VALUE_BAD.sub("_", text)[:256]


# ---- names ----------------------------------------------------------------------------------------


def preview_slug(name: str) -> str:
    slug = naming.slugify(name or "")
    if not slug:
        raise ToolkitError(
            f"preview name {clip(name or '')!r} has no letters or digits (ASCII a-z, 0-9), so it gives no usable name. "
            "Pass --name with a branch name or a word such as pr-42."
        )
    return slug


def preview_name(base: EnvConfig, name: str) -> str:
    """``BASE-<slug>``: the environment name of the preview of ``base`` called ``name``."""
    return f"{base.name}-{preview_slug(name)}"


def _unknown(name: str, detail: str) -> ToolkitError:
    base = name.split("-", 1)[0]
    return ToolkitError(
        f"unknown environment {name!r}: {detail}. Available: {', '.join(available_envs()) or '(none)'}. "
        f"To create a preview of an environment, `inv preview.deploy --env {base} --name NAME`."
    )


# ---- finding previews ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Preview:
    name: str
    stack_name: str
    status: str
    created: str | None
    updated: str | None
    expires_at: str | None
    site_url: str | None
    tags: dict[str, str]

    @property
    def expired(self) -> bool:
        return is_expired(self.expires_at)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "stack": self.stack_name,
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "expires_at": self.expires_at,
            "expired": self.expired,
            "site_url": self.site_url,
        }


def is_expired(expires_at: str | None, now: datetime | None = None) -> bool:
    """A missing or unreadable expiry counts as expired: nobody vouches for that preview."""
    try:
        moment = datetime.strptime(expires_at or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return True
    return moment <= (now or _now())


def _is_preview_of(base: EnvConfig, stack: dict, files: set[str]) -> bool:
    """By name prefix AND tags; never a stack whose environment has an env file."""
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
    env_name = stack["StackName"][len(base.project) + 1 :]
    return (
        stack["StackName"].startswith(f"{base.stack_name}-")
        and tags.get(TAG_PREVIEW) == "true"
        and tags.get(TAG_OF) == base.name
        and env_name not in files
        and stack.get("StackStatus") != "DELETE_COMPLETE"
    )


def _to_preview(base: EnvConfig, stack: dict) -> Preview:
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    when = lambda key: iso(stack[key]) if stack.get(key) else None  # noqa: E731
    return Preview(
        name=stack["StackName"][len(base.project) + 1 :],
        stack_name=stack["StackName"],
        status=stack.get("StackStatus", "?"),
        created=when("CreationTime"),
        updated=when("LastUpdatedTime") or when("CreationTime"),
        expires_at=tags.get(TAG_EXPIRES),
        site_url=outputs.get("SiteUrl"),
        tags={k: v for k, v in tags.items() if k in PREVIEW_TAGS},
    )


def list_previews(base: EnvConfig) -> list[Preview]:
    """Every preview of ``base`` in its account and region, by name."""
    from tmkit.aws import aws_errors, client

    files = set(available_envs())
    with aws_errors(base, f"listing the previews of {base.name}"):
        pages = client(base, "cloudformation").get_paginator("describe_stacks").paginate()
        stacks = [s for page in pages for s in page["Stacks"]]
    return sorted((_to_preview(base, s) for s in stacks if _is_preview_of(base, s, files)), key=lambda p: p.name)


def find_preview(name: str) -> EnvConfig:
    """The config of the preview ``name`` (``BASE-<slug>``): being deployed, or deployed; else "unknown"."""
    base_name, slug = name.split("-", 1)
    if base_name not in available_envs():
        raise _unknown(name, f"there is no envs/{name}.toml, nor an envs/{base_name}.toml it could be a preview of")
    base = load_env(base_name)
    if base.preview is None:
        raise _unknown(name, f"environment '{base_name}' has no previews (no [preview] table in its env file)")
    if naming.slugify(slug) != slug:
        raise _unknown(name, f"{slug!r} is not a preview slug (lowercase letters, digits and single dashes)")
    marker = os.environ.get(MARKER_VAR)
    if marker:
        try:
            spec = json.loads(marker)
            tags = spec["tags"] if spec.get("name") == name else None
            tags = {str(k): str(v) for k, v in tags.items()} if tags is not None else None
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ToolkitError(
                f"{MARKER_VAR} in the environment is not what the toolkit sets for the CDK app (a JSON object with "
                f"the preview's name and tags): unset it (`unset {MARKER_VAR}`) and retry."
            ) from None
        if tags is not None:
            return derive_preview(base, slug, tags)
    stack = describe_stack(base, naming.stack_name(base.project, name))
    if stack is None or not _is_preview_of(base, stack, set(available_envs())):
        raise _unknown(name, f"there is no envs/{name}.toml and no deployed preview of '{base_name}' by that name")
    return derive_preview(base, slug, _to_preview(base, stack).tags)


# ---- deploying -------------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance() -> dict[str, str]:
    """Git branch and commit, and who deploys, when known (CI variables first)."""
    found = {
        TAG_BRANCH: os.environ.get("GITHUB_HEAD_REF") or _git("rev-parse", "--abbrev-ref", "HEAD"),
        TAG_COMMIT: os.environ.get("GITHUB_SHA") or _git("rev-parse", "HEAD"),
        TAG_USER: os.environ.get("GITHUB_ACTOR") or _git("config", "user.email") or os.environ.get("USER"),
    }
    return {k: tag_value(v) for k, v in found.items() if v}


def prepare(
    base: EnvConfig,
    name: str,
    ttl_hours: int | None = None,
    now: datetime | None = None,
    say: Callable[[str], None] | None = None,
) -> EnvConfig:
    """The config to deploy for preview ``name`` of ``base``; refuses what may not be previewed.

    Warns (``say``) when that preview exists and was deployed from another branch with the same slug."""
    if base.is_preview:
        raise ToolkitError(f"'{base.name}' is itself a preview: pass its base environment '{base.preview_of}'.")
    if base.preview is None:
        raise ToolkitError(
            f"environment '{base.name}' may not have previews: it has no [preview] table in envs/{base.name}.toml "
            "(protected environments may not have one). Preview an environment that has it, e.g. dev."
        )
    slug = preview_slug(name)
    ttl = base.preview.ttl_hours if ttl_hours is None else _hours(ttl_hours)
    if not 1 <= ttl <= 24 * 30:
        raise ToolkitError(f"--ttl-hours {ttl} is out of range: give 1 to {24 * 30} hours.")
    env_name = f"{base.name}-{slug}"
    existing = list_previews(base)
    if env_name not in {p.name for p in existing} and len(existing) >= base.preview.max_previews:
        raise ToolkitError(
            f"'{base.name}' already has {len(existing)} previews, its limit (max_previews in envs/{base.name}.toml). "
            f"Remove some with `inv preview.gc --env {base.name}` or `inv preview.destroy`, then retry."
        )
    tags = {
        TAG_PREVIEW: "true",
        TAG_OF: base.name,
        TAG_EXPIRES: iso((now or _now()) + timedelta(hours=ttl)),
        **provenance(),
    }
    before = next((p.tags.get(TAG_BRANCH) for p in existing if p.name == env_name), None)
    if before and tags.get(TAG_BRANCH) and before != tags[TAG_BRANCH]:
        from tmkit.ui import say as ui_say

        (say or ui_say)(
            f"warning: preview {env_name} was deployed from branch {before!r}, not {tags[TAG_BRANCH]!r} (both "
            f"names give the slug {slug}): this deploy replaces it. Pass another --name to keep both."
        )
    return derive_preview(base, slug, tags)


def _hours(value) -> int:
    """``--ttl-hours`` as typed: a whole number of ASCII digits (``int`` alone would take ``\u0663`` or fail)."""
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.removeprefix("-").isdigit()):
        raise ToolkitError(f"--ttl-hours {value!r} is not a whole number of hours: give 1 to {24 * 30}.")
    return int(text)


def marker(cfg: EnvConfig) -> dict[str, str]:
    """The process environment that makes ``load_env(cfg.name)`` return ``cfg`` without an AWS lookup."""
    return {MARKER_VAR: json.dumps({"name": cfg.name, "tags": dict(cfg.extra_tags)}, sort_keys=True)}


def require_account_stack(base: EnvConfig) -> None:
    """A preview's API stage logs through the region's API Gateway logging role, which the account stack sets
    (infra/account_stack.py); a preview never sets it. Real API Gateway refuses a logging stage without it."""
    if describe_stack(base, base.account_stack_name) is None:
        raise ToolkitError(
            f"the account stack {base.account_stack_name} is not deployed in {base.region}, and previews need it "
            f"(it sets API Gateway's logging role). Deploy it first: `inv bootstrap --env {base.name}`."
        )


@contextlib.contextmanager
def creating(cfg: EnvConfig) -> Iterator[None]:
    """While deploying: this process and the CDK app it runs know the new preview's config."""
    saved = os.environ.get(MARKER_VAR)
    os.environ.update(marker(cfg))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(MARKER_VAR, None)
        else:
            os.environ[MARKER_VAR] = saved


def copy_secrets(source: EnvConfig, target: EnvConfig) -> tuple[list[str], list[str]]:
    """Copy the current value of each secret declared by both; returns (copied, not copied). Values stay here."""
    from tmkit import secrets
    from tmkit.aws import aws_errors, client

    seeded = {s.key for s in secrets.statuses(source) if s.seeded}
    copied, skipped = [], []
    sm = client(source, "secretsmanager")
    for key in target.secrets:
        if key not in seeded:
            skipped.append(key)
            continue
        with aws_errors(source, f"reading secret {source.secret_name(key)}"), secrets.quiet_wire():
            value = sm.get_secret_value(SecretId=source.secret_name(key))["SecretString"]
        secrets.put(target, key, value)
        del value
        copied.append(key)
    return copied, skipped


# ---- destroying -------------------------------------------------------------------------------------


def require_preview(base: EnvConfig, name: str) -> EnvConfig | None:
    """The preview ``name`` of ``base``, None when no stack has its name; refuses anything that is not a preview."""
    env_name = preview_name(base, name)
    if base.preview is None:
        raise ToolkitError(
            f"environment '{base.name}' has no previews (no [preview] table in envs/{base.name}.toml): nothing to destroy."
        )
    stack = describe_stack(base, naming.stack_name(base.project, env_name))
    if stack is None or stack.get("StackStatus") == "DELETE_COMPLETE":
        return None
    if not _is_preview_of(base, stack, set(available_envs())):
        raise ToolkitError(
            f"stack {stack['StackName']} is not a preview of '{base.name}' (no preview=true / preview-of={base.name} "
            "tags): refusing to destroy it. Destroy it with the tool that created it."
        )
    return derive_preview(base, env_name.split("-", 1)[1], _to_preview(base, stack).tags)


def purge_secrets(cfg: EnvConfig) -> None:
    """After the stack is gone: delete its secrets now rather than after the recovery window, so the same
    preview can be deployed again at once (a secret scheduled for deletion blocks its name)."""
    from botocore.exceptions import ClientError

    from tmkit.aws import aws_errors, client

    sm = client(cfg, "secretsmanager")
    for key in cfg.secrets:
        with aws_errors(cfg, f"deleting secret {cfg.secret_name(key)}"), contextlib.suppress(ClientError):
            sm.delete_secret(SecretId=cfg.secret_name(key), ForceDeleteWithoutRecovery=True)


@dataclasses.dataclass
class GcReport:
    destroyed: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    kept: list[str] = dataclasses.field(default_factory=list)
    would_destroy: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def keep_names(base: EnvConfig, keep: Iterable[str]) -> set[str]:
    """Environment names to keep: each entry is a preview NAME (``pr-42``) or its environment name (``dev-pr-42``)."""
    out = set()
    for entry in keep:
        slug = naming.slugify(entry)
        if slug:
            out.add(f"{base.name}-{slug}")
            out.add(slug)  # `dev-pr-42` itself
    return out


def gc(
    base: EnvConfig,
    destroy: Callable[[str], None],
    *,
    keep: Iterable[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> GcReport:
    """Destroy every expired preview of ``base`` and, with ``keep``, every one not in it. One failure stops none."""
    report = GcReport()
    wanted = keep_names(base, keep) if keep is not None else None
    for p in list_previews(base):
        if not (is_expired(p.expires_at, now) or (wanted is not None and p.name not in wanted)):
            report.kept.append(p.name)
            continue
        if dry_run:
            report.would_destroy.append(p.name)
            continue
        try:
            destroy(p.name)
        except Exception as exc:  # report it and go on with the others
            report.failed[p.name] = str(exc).removeprefix("error: ") or type(exc).__name__
        else:
            report.destroyed.append(p.name)
    return report
