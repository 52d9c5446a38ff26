"""TimeManagement API internals: settings, input models, per-user data access, secrets.

``app.py`` (the Lambda entry point) keeps the routes thin and calls into this package.
"""
