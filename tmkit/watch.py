"""`inv watch`: redeploy what changed, the smallest correct way, and say which.

    lambda/ code only       -> the emulator: reload the handler in the running `inv local.serve` (tmkit/hotreload.py),
                               or a full deploy when no local server answers; AWS: `cdk deploy --hotswap`
    infra/, envs/NAME.toml,
    lambda/api/requirements -> a full deploy (never a hotswap: it would skip infrastructure), then frontend/.env
                               is rewritten from the outputs (and the SPA rebuilt and published when it changed)
    frontend/src, public,
    index.html              -> build and publish the SPA

Files are polled (mtime and size, standard library only): saves that arrive within QUIET_SECONDS form one batch,
and changes made while a batch runs form the next one. The classification, the batching and the plan are pure
functions (tested in tests/unit/test_watch.py); `Actions` performs a plan. See docs/deploying.md, "The daily loop".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tmkit.config import EnvConfig, load_env
from tmkit.errors import ToolkitError

LAMBDA, INFRA, FRONTEND = "lambda", "infra", "frontend"
POLL_SECONDS = 0.3
QUIET_SECONDS = 0.2  # an editor's save (write, rename, chmod) is one change
MAX_FILES = 20_000  # a watched tree larger than this is a mistake (node_modules, a build inside src/)
IGNORED_DIRS = {"__pycache__", "node_modules", ".git", "dist", "cdk.out", ".pytest_cache", ".venv"}
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", ".swo", "~", ".tmp", ".bak", ".orig")
# Changes to these lambda/ files change the dependency layer: a full deploy, not a code swap.
LAYER_FILES = ("requirements.txt",)


# ---- what is watched, and what a path means ---------------------------------------------------------------
def watched(root: Path, env_file: Path) -> list[tuple[Path, str]]:
    """(path, kind) of every watched file or directory."""
    front = root / "frontend"
    return [
        (root / "lambda", LAMBDA),
        (root / "infra", INFRA),
        (env_file, INFRA),
        (front / "src", FRONTEND),
        (front / "public", FRONTEND),
        (front / "index.html", FRONTEND),
    ]


def ignored(name: str) -> bool:
    return name.startswith((".", "#")) or name.endswith(IGNORED_SUFFIXES) or name in IGNORED_DIRS


def classify(path: str, roots: list[tuple[Path, str]]) -> str | None:
    """The kind of change a changed ``path`` is (None: not ours)."""
    p = Path(path)
    for root, kind in roots:
        if p == root or root in p.parents:
            if any(ignored(part) for part in p.relative_to(root).parts) or (p == root and ignored(p.name)):
                return None
            if kind == LAMBDA and p.name in LAYER_FILES:
                return INFRA
            return kind
    return None


def snapshot(roots: Iterable[tuple[Path, str]]) -> dict[str, tuple[int, int]]:
    """{path: (mtime_ns, size)} of every watched file (symlinks are not followed, ignored names skipped)."""
    found: dict[str, tuple[int, int]] = {}
    for root, _ in roots:
        if root.is_file():
            try:
                st = root.stat()
            except OSError:  # deleted since is_file(): the next snapshot says so
                continue
            found[str(root)] = (st.st_mtime_ns, st.st_size)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not ignored(d)]
            for name in filenames:
                if ignored(name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:  # deleted while walking: the next snapshot says so
                    continue
                found[path] = (st.st_mtime_ns, st.st_size)
            if len(found) > MAX_FILES:
                raise ToolkitError(
                    f"{root} holds more than {MAX_FILES} files: `inv watch` polls them all. Move build output "
                    "and dependencies out of the watched directories (lambda/, infra/, frontend/src, frontend/public)."
                )
    return found


def diff(old: dict[str, tuple[int, int]], new: dict[str, tuple[int, int]]) -> set[str]:
    """Paths added, removed or modified between two snapshots."""
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


# ---- batching --------------------------------------------------------------------------------------------
@dataclass
class Batch:
    pending: set[str] = field(default_factory=set)
    last_change: float = 0.0


def step(batch: Batch, changes: set[str], now: float, quiet: float = QUIET_SECONDS) -> tuple[Batch, set[str] | None]:
    """Add ``changes``; a batch is ready once nothing changed for ``quiet`` seconds. Returns (state, ready paths)."""
    if changes:
        return Batch(batch.pending | changes, now), None
    if batch.pending and now - batch.last_change >= quiet:
        return Batch(), set(batch.pending)
    return batch, None


# ---- the plan -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    code: str | None = None  # "deploy" (full), "hotswap", "reload" (local.serve) or None
    write_env: bool = False  # rewrite frontend/.env from the outputs (after a full deploy)
    frontend: bool = False  # build and publish the SPA

    def describe(self, kinds: set[str]) -> str:
        what = {
            "deploy": "full deploy",
            "hotswap": "Lambda code hotswap",
            "reload": "reload the handler in local.serve",
        }
        steps = [what[self.code]] if self.code else []
        steps += ["rewrite frontend/.env"] if self.write_env else []
        steps += ["build and publish the SPA"] if self.frontend else []
        return f"{' + '.join(sorted(kinds))} changed: {', then '.join(steps) or 'nothing to do'}"


def plan(kinds: set[str], *, local: bool, serve_running: bool) -> Plan:
    """The smallest correct response to a batch of changes of these kinds."""
    if INFRA in kinds:
        return Plan("deploy", write_env=True, frontend=FRONTEND in kinds)
    code = None
    if LAMBDA in kinds:
        code = ("reload" if serve_running else "deploy") if local else "hotswap"
    return Plan(code, write_env=code == "deploy", frontend=FRONTEND in kinds)


def kinds_of(paths: Iterable[str], roots: list[tuple[Path, str]]) -> set[str]:
    return {k for k in (classify(p, roots) for p in paths) if k}


def check_env(cfg: EnvConfig) -> None:
    if cfg.protected:
        raise ToolkitError(
            f"`inv watch` refuses '{cfg.name}': it is protected, and watch deploys on every save without a review. "
            f"Deploy it with `inv deploy --env {cfg.name}`; watch a development environment (e.g. --env dev)."
        )


# ---- the loop -------------------------------------------------------------------------------------------
def run(
    cfg: EnvConfig,
    actions,
    *,
    root: Path,
    env_file: Path,
    say: Callable[[str], None],
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    stop: Callable[[], bool] = lambda: False,
    poll: float = POLL_SECONDS,
    load: Callable[[str], EnvConfig] | None = None,
) -> None:
    """Poll, batch, plan, act, until ``stop()`` (or Ctrl-C). A failed step is reported and watching goes on.

    A batch that changes ``env_file`` reads it again (``load``, default ``load_env``) and acts with the new
    settings: an invalid file deploys nothing until it is fixed; a file made protected stops watching.
    """
    check_env(cfg)
    sleep, clock, load = sleep or time.sleep, clock or time.monotonic, load or load_env
    roots = watched(root, env_file)
    previous = snapshot(roots)
    batch = Batch()
    say(
        f"watching lambda/, infra/, {env_file.name}, frontend/src, frontend/public, frontend/index.html for "
        f"'{cfg.name}'; Ctrl-C stops."
    )
    while not stop():
        sleep(poll)
        current = snapshot(roots)
        batch, ready = step(batch, diff(previous, current), clock())
        previous = current  # what changes while the batch runs is the next batch
        if not ready:
            continue
        kinds = kinds_of(ready, roots)
        if not kinds:
            continue
        if str(env_file) in ready:
            try:
                fresh = load(cfg.name)
            except ToolkitError as exc:
                say(f"failed: {exc}\nwatching on, nothing deployed: fix {env_file.name} and save again.")
                continue
            check_env(fresh)  # made protected while watched: stop (watch deploys without review)
            cfg = actions.cfg = fresh
        todo = plan(
            kinds, local=cfg.is_local, serve_running=LAMBDA in kinds and cfg.is_local and actions.serve_running()
        )
        say(
            f"{todo.describe(kinds)} ({', '.join(sorted(_short(p, root) for p in ready)[:5])}"
            f"{', ...' if len(ready) > 5 else ''})"
        )
        started = clock()
        try:
            perform(todo, actions, say)
        except ToolkitError as exc:
            say(f"failed: {exc}\nwatching on: fix it and save again.")
            continue
        say(f"done in {clock() - started:.1f}s; watching.")


def perform(todo: Plan, actions, say: Callable[[str], None]) -> None:
    if todo.code == "reload":
        actions.reload()
    elif todo.code == "hotswap":
        actions.deploy(hotswap=True)
    elif todo.code == "deploy":
        actions.deploy(hotswap=False)
    env_changed = actions.write_env() if todo.write_env else False
    if todo.frontend or env_changed:
        if env_changed and not todo.frontend:
            say("frontend/.env changed: rebuilding the SPA with it")
        actions.publish_frontend()


def _short(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
