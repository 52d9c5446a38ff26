"""CloudFront invalidations: start one, wait for it, and keep it within CloudFront's limits."""

from __future__ import annotations

import time
import uuid

from tmkit.errors import ToolkitError

# CloudFront accepts at most 3,000 file paths in invalidations in progress per distribution (and 15
# wildcard paths): a larger request is refused, and batches would queue behind that limit. More paths
# than this collapse to one "/*", which costs the same as one path.
MAX_INVALIDATION_PATHS = 3000


def collapse(paths: list[str]) -> tuple[list[str], str | None]:
    """``paths`` without repeats, or ``["/*"]`` past CloudFront's limit; the second value says why it changed."""
    unique = list(dict.fromkeys(paths))
    if len(unique) > MAX_INVALIDATION_PATHS and unique != ["/*"]:
        return ["/*"], (
            f"{len(unique)} paths exceed CloudFront's limit of {MAX_INVALIDATION_PATHS} per invalidation: "
            "invalidating /* instead (one wildcard path, the whole distribution)."
        )
    return unique, None


def check_paths(paths: list[str]) -> None:
    bad = [p for p in paths if not p.startswith("/")]
    if bad or not paths:
        raise ToolkitError(
            f"invalidation paths must start with '/' (got {', '.join(bad[:5]) or 'none'}): "
            "e.g. --paths /index.html --paths '/*'."
        )


def create_invalidation(cloudfront, distribution_id: str, paths: list[str]) -> str:
    """Start an invalidation (collapsed to ``/*`` past CloudFront's limit); returns its id."""
    check_paths(paths)
    paths, _why = collapse(paths)
    res = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"tmkit-{uuid.uuid4()}",
        },
    )
    return res["Invalidation"]["Id"]


def wait_invalidation(
    cloudfront, distribution_id: str, invalidation_id: str, *, timeout: float = 600, poll: float = 5.0
) -> None:
    """Wait until the invalidation is complete (CloudFront says "Completed"; the emulator "COMPLETED")."""
    deadline = time.monotonic() + timeout
    while True:
        status = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)["Invalidation"][
            "Status"
        ]
        if status.lower() == "completed":
            return
        if time.monotonic() + poll > deadline:
            raise ToolkitError(
                f"invalidation {invalidation_id} is still {status} after {timeout:g}s. The site is "
                "published; the edge caches will follow when it completes. Check it with "
                f"`aws cloudfront get-invalidation --distribution-id {distribution_id} --id {invalidation_id}`."
            )
        time.sleep(poll)
