"""The one exception type a user can cause. Tasks turn it into ``invoke.Exit`` (exit 1, no traceback)."""


class ToolkitError(Exception):
    """A problem the user can fix. The message says what went wrong and what to do."""
