"""`inv frontend.*` tasks."""
from invoke import Collection

ns = Collection("frontend")
