"""Monthly cost budget for one environment (e-mail at 80 % actual and 100 % forecast), optional anomaly monitor.

The budget counts only costs tagged ``environment=<env>``: activate ``environment`` as a
cost-allocation tag in the Billing console once per account, or the budget sees no spend.
"""

from __future__ import annotations

import json

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from constructs import Construct

TAG_KEY = "environment"


def amount_string(value: float) -> str:
    """A plain decimal string ("25", "12.5"), as the anomaly subscription's threshold values are written."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


class CostGuardrails(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        names: dict[str, str],
        environment_name: str,
        monthly_limit_usd: float,
        emails: list[str],
        anomaly_monitor: bool,
    ) -> None:
        super().__init__(scope, id)
        subscribers = [budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=e) for e in emails]

        def notify(kind: str, threshold: int):
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )

        self.budget = budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=names["budget"],
                budget_type="COST",
                time_unit="MONTHLY",
                # A number, as AWS::Budgets::Budget Spend.Amount is typed; the emulator adapter makes it a string.
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_limit_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:{TAG_KEY}${environment_name}"]},
            ),
            notifications_with_subscribers=[notify("ACTUAL", 80), notify("FORECASTED", 100)],
        )

        self.anomaly_monitor = None
        if anomaly_monitor:
            self.anomaly_monitor = ce.CfnAnomalyMonitor(
                self,
                "AnomalyMonitor",
                monitor_name=names["anomaly_monitor"],
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {"Tags": {"Key": TAG_KEY, "Values": [environment_name], "MatchOptions": ["EQUALS"]}}, sort_keys=True
                ),
            )
            ce.CfnAnomalySubscription(
                self,
                "AnomalySubscription",
                subscription_name=names["anomaly_monitor"],
                frequency="DAILY",
                monitor_arn_list=[self.anomaly_monitor.attr_monitor_arn],
                subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(type="EMAIL", address=e) for e in emails],
                # Alert on anomalies whose total impact is at least 10 % of the monthly budget.
                threshold_expression=json.dumps(
                    {
                        "Dimensions": {
                            "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                            "Values": [amount_string(max(monthly_limit_usd / 10, 1))],
                        }
                    },
                    sort_keys=True,
                ),
            )
