"""`inv local.*` tasks."""
from invoke import Collection

ns = Collection("local")
