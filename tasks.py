"""Invoke entry point: the root namespace, built from the task modules in tmkit/tasks. Nothing else."""

from invoke import Collection

from tmkit.tasks import cost, frontend, lambda_, local, outputs, preview, secrets, stack
from tmkit.tasks import status as status_tasks

ns = Collection.from_module(stack)
ns.add_task(status_tasks.status)
for module in (outputs, local, frontend, secrets, cost, lambda_, preview):
    ns.add_collection(module.ns)
