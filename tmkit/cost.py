"""Cost allocation tags: activate ``project-name`` and ``environment`` in Cost Explorer.

The stack tags every resource with these keys, but AWS only breaks costs down by a user-defined tag
after the tag is *activated* for cost allocation, which is an account-level (billing) setting:
- a tag key can be activated only after it has appeared on at least one billed resource, which
  can take up to 24 hours after the first deploy;
- after activation, up to 24 hours pass before the tag shows up in Cost Explorer, budgets and the
  cost and usage report, and costs are attributed only from then on (not retroactively);
- in an AWS Organization only the management (payer) account can activate tags.
The emulator has no billing, so an emulator-backed environment has nothing to activate.
"""

from __future__ import annotations

import dataclasses

from tmkit.aws import aws_errors, client
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

TAG_KEYS = ("project-name", "environment")

DELAY_NOTE = (
    "Cost allocation tags take up to 24 hours to appear in Cost Explorer, budgets and the cost and "
    "usage report after activation, and costs are attributed from then on (not retroactively). "
    "A tag key can be activated only once it has appeared on a billed resource, up to 24 hours "
    "after the first deploy."
)


@dataclasses.dataclass(frozen=True)
class TagPlan:
    active: tuple[str, ...]  # already active: nothing to do
    inactive: tuple[str, ...]  # known to billing, not active: will be activated
    unseen: tuple[str, ...]  # not yet seen on a billed resource: the activation will be attempted anyway

    @property
    def to_activate(self) -> tuple[str, ...]:
        return self.inactive + self.unseen


# What to do when AWS denies a Cost Explorer call (tmkit.aws.aws_errors words the rest).
DENIED_FIX = (
    "Cost allocation tags are an account billing setting: run this with credentials of the management "
    "(payer) account of your AWS Organization, allowed ce:ListCostAllocationTags and "
    "ce:UpdateCostAllocationTagsStatus."
)


def plan(cfg: EnvConfig, ce=None) -> TagPlan:
    """Which of TAG_KEYS are active, inactive, or not yet known to billing (read only)."""
    ce = ce or client(cfg, "ce")
    with aws_errors(cfg, "reading the cost allocation tags", denied=DENIED_FIX, otherwise="Retry later."):
        found = ce.list_cost_allocation_tags(TagKeys=list(TAG_KEYS), Type="UserDefined")["CostAllocationTags"]
    status = {t["TagKey"]: t.get("Status") for t in found}
    return TagPlan(
        active=tuple(k for k in TAG_KEYS if status.get(k) == "Active"),
        inactive=tuple(k for k in TAG_KEYS if status.get(k) == "Inactive"),
        unseen=tuple(k for k in TAG_KEYS if k not in status),
    )


def activate(cfg: EnvConfig, keys: tuple[str, ...], ce=None) -> None:
    """Activate ``keys``; ToolkitError naming each key AWS refused (usually: not seen on a billed resource yet)."""
    if not keys:
        return
    ce = ce or client(cfg, "ce")
    with aws_errors(cfg, "activating the cost allocation tags", denied=DENIED_FIX, otherwise="Retry later."):
        response = ce.update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[{"TagKey": k, "Status": "Active"} for k in keys]
        )
    errors = response.get("Errors") or []
    if errors:
        failed = "; ".join(f"{e.get('TagKey')}: {e.get('Code')} {e.get('Message') or ''}".strip() for e in errors)
        raise ToolkitError(
            f"AWS did not activate {len(errors)} of {len(keys)} cost allocation tags ({failed}). "
            f"A tag key can be activated only after it has appeared on a billed resource: make sure "
            f"`inv deploy --env {cfg.name}` has run, wait up to 24 hours, then run "
            f"`inv cost.tags --env {cfg.name}` again."
        )
