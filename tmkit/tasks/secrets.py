"""`inv secrets.*` tasks."""
from invoke import Collection

ns = Collection("secrets")
