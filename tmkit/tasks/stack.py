"""Root tasks of the stack lifecycle: synth, bootstrap, diff, deploy, destroy, doctor."""
from tmkit.tasks._base import load, tm_task


@tm_task
def synth(c, env=None):
    """Synthesize the stack templates into cdk.out/ (all non-local environments unless --env)."""
    raise NotImplementedError
