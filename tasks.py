"""Invoke entry point: the root namespace, built from the task modules in tmkit/tasks. Nothing else."""

from invoke import Collection

from tmkit.tasks import cost, frontend, lambda_, local, outputs, preview, secrets, stack, status, verify
from tmkit.tasks.logs import logs
from tmkit.tasks.watch import watch

ns = Collection.from_module(stack)
for task in (status.status, logs, watch, verify.verify):
    ns.add_task(task)
for module in (outputs, local, frontend, secrets, cost, lambda_, preview):
    ns.add_collection(module.ns)
