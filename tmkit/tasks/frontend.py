"""`inv frontend.*`: build the SPA for an environment, publish it, invalidate the CDN, list and roll back releases.

The work is in ``tmkit.publish``; these bodies parse flags, call it and print.
"""

import sys

from invoke import Collection

from tmkit import paths
from tmkit.errors import ToolkitError
from tmkit.tasks._base import load, tm_task
from tmkit.ui import data, say


def _whole(value, flag: str, unit: str) -> int:
    """``--keep`` (default None: the package's default) as a whole number."""
    if not str(value).isdigit():
        raise ToolkitError(f"{flag} must be a whole number of {unit} (0 or more), not {value!r}.")
    return int(value)


@tm_task
def build(c, env=None):
    """Write frontend/.env from the stack outputs, then `npm run build` (output: frontend/dist)."""
    from tmkit.outputs import render_env, stack_outputs, write_atomically

    cfg = load(env)
    if not (paths.FRONTEND_DIR / "package.json").is_file():
        raise ToolkitError(
            f"there is no frontend at {paths.FRONTEND_DIR} (package.json missing): restore "
            "frontend/ from the repository (`git checkout -- frontend`), then `make setup`."
        )
    if not (paths.FRONTEND_DIR / "node_modules").is_dir():
        raise ToolkitError(
            f"{paths.FRONTEND_DIR / 'node_modules'} is missing: install the frontend's "
            "dependencies with `make setup`, then retry."
        )
    text = render_env(cfg, stack_outputs(cfg))
    write_atomically(paths.FRONTEND_DIR / ".env", text)
    say(f"wrote frontend/.env from {cfg.stack_name}; building...")
    with c.cd(str(paths.FRONTEND_DIR)):
        c.run("npm run build", out_stream=sys.stderr)  # stdout is for requested data only


@tm_task(
    help={
        "dir": "build directory to publish (default: frontend/dist)",
        "dry_run": "print the plan (uploads, bytes, deletions, invalidation paths) on stdout and change nothing",
        "wait": "wait until the CloudFront invalidation has completed",
        "timeout": "seconds --wait waits at most (default 600)",
        "keep": "earlier releases whose assets stay in the bucket for open tabs and rollback (default 3)",
        "include_dotfiles": "also publish paths with a segment starting with '.' (.env, .git/; skipped by default)",
        "force": "publish even when the HTML loads files missing from the build",
        "wait_lock": "seconds to wait for another publish or rollback of the environment to finish (default 0)",
        "sweep": "list the whole bucket instead of trusting the release records, and remove what none accounts for",
        "workers": "uploads in flight (default 32; more for a slow, high-latency link)",
    }
)
def publish(
    c,
    env=None,
    dir=None,
    dry_run=False,
    wait=False,
    timeout=600,
    keep=None,
    include_dotfiles=False,
    force=False,
    wait_lock=0,
    sweep=False,
    workers=None,
):
    """Upload the build content-addressed (only new or changed files), index.html last, then invalidate."""
    from tmkit import publish as pub

    cfg = load(env)
    keep = pub.DEFAULT_KEEP if keep is None else _whole(keep, "--keep", "releases")
    workers = pub.DEFAULT_WORKERS if workers is None else _whole(workers, "--workers", "uploads in flight")
    result = pub.publish_env(
        cfg,
        dir or paths.FRONTEND_DIR / "dist",
        say=say,
        dry_run=dry_run,
        wait=wait,
        timeout=float(timeout),
        keep=keep,
        include_dotfiles=include_dotfiles,
        force=force,
        wait_lock=wait_lock,
        sweep=sweep,
        workers=workers,
    )
    plan = result.plan
    if dry_run:
        data(plan.render())
        say("dry run: nothing was changed.")
        return
    if not plan.changes_site:
        say(f"release {plan.release} is already live; nothing changed, nothing invalidated.")
    else:
        say(
            f"release {plan.release} is live: uploaded {len(plan.puts)} files ({plan.upload_bytes} bytes), "
            f"placed {len(plan.copies)} unfingerprinted files, pruned {result.pruned} objects, "
            f"in {result.seconds:.1f}s."
        )
        say(
            f"invalidated {' '.join(plan.invalidation)} ({result.invalidation_id})"
            if plan.invalidation
            else "no cached path changed: no invalidation."
        )


@tm_task(
    iterable=["paths"],
    help={
        "paths": "a path to invalidate, starting with / (repeatable; default /*)",
        "wait": "wait until the invalidation has completed",
        "timeout": "seconds --wait waits at most (default 600)",
    },
)
def invalidate(c, env=None, paths=None, wait=False, timeout=600):
    """Invalidate paths in the environment's CloudFront distribution (prints the invalidation id)."""
    from tmkit.publish import invalidate_env
    from tmkit.ui import data, say

    cfg = load(env)
    items = [p.strip() for arg in (paths or ["/*"]) for p in arg.split(",") if p.strip()]
    data(invalidate_env(cfg, items, wait=wait, timeout=float(timeout), say=say))


@tm_task
def releases(c, env=None):
    """The releases kept in the bucket, newest first; the live one is marked."""
    from tmkit.publish import releases_env, render_releases

    cfg = load(env)
    found = releases_env(cfg)
    if not found:
        say(f"no release published to {cfg.stack_name} yet: `inv frontend.publish --env {cfg.name}`.")
    data(render_releases(found))


@tm_task(
    help={
        "to": "release id (or a unique prefix) to restore; default: the one before the live one",
        "wait_lock": "seconds to wait for another publish or rollback of the environment to finish (default 0)",
    }
)
def rollback(c, env=None, to=None, wait_lock=0):
    """Make an earlier release live again: restores its index.html (and other unfingerprinted files), invalidates."""
    from tmkit.publish import rollback_env

    cfg = load(env)
    release, paths = rollback_env(cfg, to=to, wait_lock=wait_lock, say=say)
    say(f"release {release} is live again" + (f"; invalidated {' '.join(paths)}." if paths else "."))


ns = Collection("frontend", build, publish, invalidate, releases, rollback)
