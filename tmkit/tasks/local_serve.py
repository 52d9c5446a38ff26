"""`inv local.serve` and `inv local.user`: the deployed emulator stack in a browser, and a demo user for it.

Both are in the "local" collection (tmkit/tasks/local.py). The work is in tmkit/localserve.py (the server)
and tmkit/local_users.py (the user).
"""

from tmkit.errors import ToolkitError
from tmkit.tasks._base import load, tm_task
from tmkit.ui import data, say

ENV_LOCAL = "emulator-backed environment (envs/NAME.toml with [emulator]); default: local"


@tm_task(
    help={
        "env": ENV_LOCAL,
        "port": "port to listen on (default 8080)",
        "host": "127.0.0.1 (default) or localhost: the server listens on loopback only; anything else is refused",
    }
)
def serve(c, env="local", port="8080", host="127.0.0.1"):
    """Serve the published SPA, the API (in-process, behind a Cognito JWT authorizer) and Cognito on one local origin."""
    from tmkit.local_http import check_host, check_port
    from tmkit.localserve import serve_forever

    # Arguments first, before any file or network is read. A str default: invoke hands us the text as typed.
    check_host(host)
    number = check_port(port)
    serve_forever(load(env), port=number, host=host)


@tm_task(
    help={
        "env": ENV_LOCAL,
        "email": "the user's email address (also the sign-in name)",
        "password_file": "read the password from this file (else piped stdin, else a hidden prompt; never argv)",
        "generate": "generate a throwaway password and print it once on stdout (emulator only)",
    }
)
def user(c, email, env="local", password_file=None, generate=False):
    """Create (or reset) a confirmed user with a permanent password in the emulator's user pool."""
    from tmkit.local_users import check_target, create_user, generate_password, read_password

    if generate and password_file:
        raise ToolkitError("--generate and --password-file exclude each other: choose one.")
    cfg = load(env)
    check_target(cfg, email)  # before a password is asked for
    password = generate_password() if generate else read_password(password_file=password_file)
    pool, created = create_user(cfg, email, password)
    say(
        f"user {email} {'created' if created else 'existed; password replaced'} in pool {pool}: confirmed, "
        "permanent password. Sign in at `inv local.serve`."
    )
    if generate:
        data(password)
