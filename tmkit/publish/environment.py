"""The publish package bound to one environment: its bucket and distribution from the stack outputs, the
clients, and error translation through ``tmkit.aws.aws_errors`` (the toolkit's one mechanism)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tmkit.aws import Later, aws_errors, client, client_later
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.outputs import cloudformation_client, stack_outputs
from tmkit.publish.build import scan_build
from tmkit.publish.cdn import check_paths, collapse, create_invalidation, wait_invalidation
from tmkit.publish.publishing import Result, check_workers, publish
from tmkit.publish.records import read_records
from tmkit.publish.releases import Release, list_releases, rollback
from tmkit.publish.remote import read_remote
from tmkit.publish.rules import DEFAULT_WORKERS

DENIED = (
    "Use credentials allowed s3:ListBucket, GetObject, PutObject and DeleteObject on the frontend bucket and "
    "cloudfront:CreateInvalidation and GetInvalidation on the distribution (the deploy role has them)."
)
OTHERWISE = "Check that the stack is deployed (`inv outputs.show --env NAME`) and retry."


@dataclass(frozen=True)
class Target:
    cfg: EnvConfig
    bucket: str
    distribution_id: str
    # The S3 client ``target(s3_workers=N)`` started making, for N workers.
    s3_later: tuple[int, Later] | None = field(default=None, repr=False, compare=False)

    def s3(self, workers: int = DEFAULT_WORKERS):
        if self.s3_later is not None and self.s3_later[0] == workers:
            return self.s3_later[1].get()
        return client(self.cfg, "s3", max_pool=workers + 2)

    def cloudfront(self):
        """Made on first use (a publish with nothing to invalidate never needs CloudFront)."""
        return _Lazy(lambda: client(self.cfg, "cloudfront"))


class _Lazy:
    def __init__(self, make: Callable):
        self._make, self._client = make, None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def target(cfg: EnvConfig, *, s3_workers: int | None = None) -> Target:
    """The environment's frontend bucket and distribution, read from its stack outputs.

    With ``s3_workers``, the S3 client for that many workers is made while DescribeStacks waits on the network
    (docs/architecture.md, "Start-up"); the CloudFormation client is made first, so the request waits for nothing.
    """
    cloudformation = cloudformation_client(cfg)
    s3_later = (s3_workers, client_later(cfg, "s3", max_pool=s3_workers + 2)) if s3_workers is not None else None
    outputs = stack_outputs(cfg, cloudformation)
    missing = [k for k in ("FrontendBucketName", "DistributionId") if not outputs.get(k)]
    if missing:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no {' or '.join(missing)} output: "
            f"redeploy it with `inv deploy --env {cfg.name}`."
        )
    return Target(cfg, outputs["FrontendBucketName"], outputs["DistributionId"], s3_later)


def publish_env(
    cfg: EnvConfig,
    build_dir: Path | str,
    *,
    include_dotfiles: bool = False,
    force: bool = False,
    say: Callable[[str], None] = lambda m: None,
    **options,
) -> Result:
    workers = options.get("workers", DEFAULT_WORKERS)
    check_workers(workers)  # before anything is read or sent
    build = scan_build(
        build_dir, build_hint=f"inv frontend.build --env {cfg.name}", include_dotfiles=include_dotfiles, force=force
    )
    say(f"{len(build.files)} files, {build.size} bytes in {build_dir}; release {build.release}")
    if build.skipped:
        say(
            f"skipped {len(build.skipped)} dotfiles (paths with a segment starting with '.', e.g. "
            f"{build.skipped[0]}): they are often secrets or tooling; --include-dotfiles publishes them."
        )
    for page, refs in sorted(build.unresolved.items()):
        say(f"--force: publishing {page} although it loads files missing from the build: {', '.join(refs)}")
    with aws_errors(cfg, f"publishing the frontend of {cfg.stack_name}", denied=DENIED, otherwise=OTHERWISE):
        t = target(cfg, s3_workers=workers)
        return publish(
            t.s3(workers),
            t.cloudfront(),
            t.bucket,
            t.distribution_id,
            build,
            say=say,
            **options,
        )


def invalidate_env(
    cfg: EnvConfig,
    paths: list[str],
    *,
    wait: bool = False,
    timeout: float = 600,
    poll: float = 5.0,
    say: Callable[[str], None] = lambda m: None,
) -> str:
    check_paths(paths)
    paths, why = collapse(paths)
    if why:
        say(why)
    with aws_errors(cfg, f"invalidating the CDN of {cfg.stack_name}", denied=DENIED, otherwise=OTHERWISE):
        t = target(cfg)
        cloudfront = t.cloudfront()
        inv_id = create_invalidation(cloudfront, t.distribution_id, paths)
        if wait:
            wait_invalidation(cloudfront, t.distribution_id, inv_id, timeout=timeout, poll=poll)
        return inv_id


def releases_env(cfg: EnvConfig) -> list[Release]:
    with aws_errors(cfg, f"reading the releases of {cfg.stack_name}", denied=DENIED, otherwise=OTHERWISE):
        t = target(cfg, s3_workers=DEFAULT_WORKERS)
        s3 = t.s3()
        return list_releases(read_records(s3, t.bucket, None) or read_remote(s3, t.bucket))


def rollback_env(cfg: EnvConfig, to: str | None = None, **options) -> tuple[str, list[str]]:
    with aws_errors(cfg, f"rolling back the frontend of {cfg.stack_name}", denied=DENIED, otherwise=OTHERWISE):
        t = target(cfg, s3_workers=DEFAULT_WORKERS)
        return rollback(t.s3(), t.cloudfront(), t.bucket, t.distribution_id, to=to, **options)
