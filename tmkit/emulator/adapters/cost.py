"""Cost guardrails: Budgets Budget (moto's budgets backend) and Cost Explorer anomaly detection (no moto API)."""

from __future__ import annotations

import copy
import uuid

from moto.budgets.models import budgets_backends
from moto.core.common_models import CloudFormationModel

from tmkit.emulator.adapters._base import Adapter, Ctx


def _backend(ctx: Ctx):
    return budgets_backends[ctx.account_id][ctx.partition]


def _stringify_amounts(value):
    """The Budgets API carries amounts as strings; templates carry numbers."""
    if isinstance(value, dict):
        return {
            k: (str(v) if k == "Amount" and isinstance(v, (int, float)) else _stringify_amounts(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_stringify_amounts(v) for v in value]
    return value


class Budget(Adapter, CloudFormationModel):
    REMOVE_BEFORE_REPLACE = True
    CFN_TYPE = "AWS::Budgets::Budget"

    @classmethod
    def create(cls, ctx, name, props):
        budget = _stringify_amounts(copy.deepcopy(props["Budget"]))
        budget.setdefault("BudgetName", name)
        notifications = [
            {"Notification": n["Notification"], "Subscribers": n.get("Subscribers", [])}
            for n in props.get("NotificationsWithSubscribers") or []
        ]
        _backend(ctx).create_budget(account_id=ctx.account_id, budget=budget, notifications=notifications)
        return budget["BudgetName"], {}

    @classmethod
    def remove(cls, resource):
        _backend(resource.ctx).budgets[resource.ctx.account_id].pop(resource.physical_id, None)


class _ArnOnly(Adapter):
    """No moto API: a real-looking ARN that stays stable across updates."""

    SERVICE_PATH = ""

    @classmethod
    def create(cls, ctx, name, props):
        arn = f"arn:{ctx.partition}:ce::{ctx.account_id}:{cls.SERVICE_PATH}/{uuid.uuid4()}"
        return arn, {cls.ATTRS[0]: arn}

    @classmethod
    def update(cls, resource, props):
        return cls._updated_in_place(resource, props)


class AnomalyMonitor(_ArnOnly, CloudFormationModel):
    CFN_TYPE = "AWS::CE::AnomalyMonitor"
    SERVICE_PATH = "anomalymonitor"
    ATTRS = ("MonitorArn",)


class AnomalySubscription(_ArnOnly, CloudFormationModel):
    CFN_TYPE = "AWS::CE::AnomalySubscription"
    SERVICE_PATH = "anomalysubscription"
    ATTRS = ("SubscriptionArn",)
