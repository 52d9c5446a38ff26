"""`inv lambda.*`: the API Lambda's build step."""

from invoke import Collection

from tmkit.lambda_build import ensure_layer
from tmkit.paths import ROOT
from tmkit.tasks._base import tm_task
from tmkit.ui import say


@tm_task
def build(c):
    """Build the API Lambda's dependency layer for lambda/api/requirements.txt (a no-op when up to date)."""
    say(f"Lambda layer ready: {ensure_layer().relative_to(ROOT)}")


ns = Collection("lambda", build)
