"""The TimeManagement CDK app (see infra/app.py)."""
