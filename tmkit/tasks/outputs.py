"""`inv outputs.*` tasks."""
from invoke import Collection

ns = Collection("outputs")
