"""`inv cost.*` tasks."""
from invoke import Collection

ns = Collection("cost")
