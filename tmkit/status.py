"""`inv status`: every environment of this project in reach (env files and their previews), one row each.

An emulator-backed environment is included only while its emulator runs. A failure to read one
environment (no credentials, access denied) becomes that row's ``error``; the others are still reported.
"""

from __future__ import annotations

from tmkit import preview
from tmkit.config import EnvConfig, available_envs, derive_preview, load_env
from tmkit.errors import ToolkitError
from tmkit.ui import say


def _release(cfg: EnvConfig) -> str | None:
    from tmkit.publish import releases_env

    live = [r.id for r in releases_env(cfg) if r.live]
    return live[0] if live else None


def env_row(cfg: EnvConfig, expires_at: str | None = None) -> dict:
    """Stack status, last update, live frontend release, secrets, expiry and site URL of one environment."""
    from tmkit import secrets
    from tmkit.outputs import describe_stack

    row = {
        "name": cfg.name,
        "preview_of": cfg.preview_of,
        "region": cfg.region,
        "emulator": cfg.is_local,
        "stack": cfg.stack_name,
        "status": "NOT_DEPLOYED",
        "last_updated": None,
        "release": None,
        "secrets_seeded": None,
        "unseeded_secrets": [],
        "expires_at": expires_at,
        "site_url": None,
        "error": None,
    }
    try:
        stack = describe_stack(cfg)
        if stack is None:
            return row
        when = stack.get("LastUpdatedTime") or stack.get("CreationTime")
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        row.update(status=stack["StackStatus"], last_updated=preview.iso(when) if when else None)
        row["site_url"] = outputs.get("SiteUrl")
        items = secrets.statuses(cfg)
        row["unseeded_secrets"] = [s.key for s in items if not s.seeded]
        row["secrets_seeded"] = not row["unseeded_secrets"]
        if outputs.get("FrontendBucketName"):
            row["release"] = _release(cfg)
    except ToolkitError as exc:
        row["error"] = str(exc)
        if row["last_updated"] is None and row["status"] == "NOT_DEPLOYED":
            row["status"] = "UNKNOWN"  # the stack could not be read: never report it as not deployed
    return row


def collect(names: list[str] | None = None) -> list[dict]:
    """One row per environment file (and per preview of it), in name order."""
    rows = []
    for name in names if names is not None else available_envs():
        try:
            cfg = load_env(name)
        except ToolkitError as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        if cfg.is_local:
            from tmkit.emulator import is_running

            if not is_running(cfg):
                say(f"{name}: skipped (its emulator is not running; `inv local.up --env {name}`)")
                continue
        rows.append(env_row(cfg))
        if cfg.preview is None:
            continue
        try:
            previews = preview.list_previews(cfg)
        except ToolkitError as exc:
            rows[-1]["error"] = rows[-1]["error"] or f"listing previews: {exc}"
            continue
        for p in previews:
            derived = derive_preview(cfg, p.name.split("-", 1)[1], p.tags)
            rows.append(env_row(derived, p.expires_at))
    return rows


def table_rows(rows: list[dict]) -> list[tuple]:
    def secrets_cell(r):
        if r.get("secrets_seeded") is None:
            return "-"
        return "seeded" if r["secrets_seeded"] else "unseeded: " + ",".join(r["unseeded_secrets"])

    return [
        (
            r["name"],
            "ERROR: " + r["error"] if r.get("error") and not r.get("status") else r.get("status", "?"),
            r.get("last_updated") or "-",
            r.get("release") or "-",
            secrets_cell(r),
            r.get("expires_at") or "-",
            r.get("site_url") or "-",
        )
        for r in rows
    ]
