"""Invoke entry point: the root namespace, built from the task modules in tmkit/tasks. Nothing else."""

from invoke import Collection

from tmkit.tasks import cost, frontend, lambda_, local, outputs, secrets, stack
from tmkit.tasks.logs import logs
from tmkit.tasks.watch import watch

ns = Collection.from_module(stack)
for module in (outputs, local, frontend, secrets, cost, lambda_):
    ns.add_collection(module.ns)
ns.add_task(logs)
ns.add_task(watch)
