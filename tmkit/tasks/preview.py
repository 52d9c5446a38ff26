"""`inv preview.*`: previews of an environment, one per branch or developer (docs/environments.md, "Previews")."""

from invoke import Collection

from tmkit.tasks._base import load, tm_task

BASE_HELP = "the base environment (an env file with a [preview] table, e.g. dev or local)"
NAME_HELP = "free text such as a branch name (`feature/Add login`, `pr-42`); the preview is BASE-<slug>"


def _deploy_stack(c, cfg) -> None:
    """Deploy the preview's stack (the same path as `inv deploy`) and show its outputs on stderr."""
    from tmkit import deploy as stack_ops
    from tmkit.tasks.outputs import show

    stack_ops.deploy(c, cfg)
    show(c, env=cfg.name)


def _destroy_preview(c, cfg) -> None:
    """Destroy the preview's stack (the same path as `inv destroy`: bucket emptied first), then its secrets."""
    from tmkit import deploy as stack_ops
    from tmkit import preview

    stack_ops.destroy(c, cfg, yes=True)
    preview.purge_secrets(cfg)


@tm_task(
    help={
        "env": BASE_HELP,
        "name": NAME_HELP,
        "ttl-hours": "lifetime from now (default: ttl_hours of the base's [preview] table); a redeploy extends it",
        "secrets-from": "copy the current values of the declared secrets from this environment (never printed)",
    }
)
def deploy(c, env=None, name=None, ttl_hours=None, secrets_from=None):
    """Deploy (or update and extend) a preview of an environment; prints its environment name BASE-<slug>."""
    from tmkit import preview
    from tmkit.ui import data, say

    base = load(env)
    cfg = preview.prepare(base, name or "", ttl_hours)
    source = load(secrets_from) if secrets_from else None
    preview.require_account_stack(base)
    say(f"deploying preview {cfg.name} of {base.name} (expires {dict(cfg.extra_tags)[preview.TAG_EXPIRES]})")
    with preview.creating(cfg):
        _deploy_stack(c, cfg)
    if source is not None:
        copied, skipped = preview.copy_secrets(source, cfg)
        say(f"secrets copied from {source.name}: {', '.join(copied) or 'none'}")
        if skipped:
            say(f"not seeded in {source.name}, so not copied: {', '.join(skipped)}")
    elif cfg.secrets:
        say(
            f"secrets start unseeded: seed them with `inv secrets.put --env {cfg.name} KEY` or redeploy with --secrets-from"
        )
    data(cfg.name)


@tm_task(name="list", help={"env": BASE_HELP, "json": "print a JSON list on stdout instead of a table on stderr"})
def list_(c, env=None, json=False):
    """The previews of an environment: name, stack status, created, expires-at, expired, site URL."""
    import json as jsonlib

    from tmkit import preview
    from tmkit.ui import data, say, table

    base = load(env)
    items = preview.list_previews(base)
    if json:
        data(jsonlib.dumps([p.as_dict() for p in items], indent=2))
        return
    if not items:
        say(f"'{base.name}' has no previews.")
        return
    table(
        ["name", "status", "created", "expires-at", "expired", "site"],
        [(p.name, p.status, p.created, p.expires_at, "yes" if p.expired else "no", p.site_url or "-") for p in items],
    )


@tm_task(help={"env": BASE_HELP, "name": "the preview's NAME (as given to preview.deploy) or its slug"})
def destroy(c, env=None, name=None):
    """Destroy a preview completely: bucket emptied, stack and secrets deleted."""
    from tmkit import preview
    from tmkit.ui import say

    base = load(env)
    cfg = preview.require_preview(base, name or "")
    if cfg is None:
        from tmkit.config import derive_preview

        gone = derive_preview(base, preview.preview_slug(name or ""), {})
        preview.purge_secrets(gone)  # what a destroy interrupted after the stack's deletion may have left
        say(f"preview {gone.name} of '{base.name}' is not deployed: nothing to destroy")
        return
    _destroy_preview(c, cfg)
    say(f"preview {cfg.name} destroyed")


@tm_task(
    help={
        "env": BASE_HELP,
        "keep": "comma-separated NAMEs (or BASE-<slug> names) to keep; every other preview of BASE is destroyed",
        "dry-run": "only report what would be destroyed",
        "json": "print the report as JSON on stdout",
    }
)
def gc(c, env=None, keep=None, dry_run=False, json=False):
    """Destroy the expired previews of an environment and, with --keep, every preview not listed."""
    import json as jsonlib

    from tmkit import preview
    from tmkit.errors import ToolkitError
    from tmkit.ui import data, say

    base = load(env)
    keep_list = [k.strip() for k in keep.split(",") if k.strip()] if keep is not None else None

    def destroy_one(env_name: str) -> None:
        cfg = preview.require_preview(base, env_name.split("-", 1)[1])
        if cfg is not None:  # None: gone meanwhile (destroyed by another run)
            _destroy_preview(c, cfg)

    report = preview.gc(base, destroy_one, keep=keep_list, dry_run=dry_run)
    for label, names in (("would destroy", report.would_destroy), ("destroyed", report.destroyed)):
        if names:
            say(f"{label}: {', '.join(names)}")
    for env_name, reason in report.failed.items():
        say(f"could not destroy {env_name}: {reason}")
    say(f"kept: {', '.join(report.kept) or 'none'}")
    if json:
        data(jsonlib.dumps(report.as_dict(), indent=2))
    if report.failed:
        raise ToolkitError(
            f"{len(report.failed)} preview(s) of '{base.name}' could not be destroyed (listed above). "
            f"Fix the cause and rerun `inv preview.gc --env {base.name}`."
        )


ns = Collection("preview", deploy, list_, destroy, gc)
