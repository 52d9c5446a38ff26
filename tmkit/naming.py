"""Names: the slug of a preview and every AWS resource name derived from an environment.

Each AWS name the stack sets is spelled here once, with the service's length limit, and goes
through ``fit``: a name that is too long keeps its suffix (``-api``, ``-data`` ...) and loses the end of
its prefix, replaced by a short hash of the whole prefix, so two different environments never get the
same name. A name that fits is left exactly as it was, so existing stacks keep their resources.
Decisions are recorded in docs/environments.md ("Previews: naming").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

HASH_LEN = 7  # hex digits of sha256: 268 million values; a collision needs two names with the same cut prefix
SLUG_MAX = 24  # the preview part of an environment name: `local-<slug>` stays short in every resource name

# AWS length limits (characters) of the names the stack sets explicitly. Roles, layers and other resources
# without an explicit name are named by CloudFormation, which fits them itself.
STACK_MAX = 128  # CloudFormation: [A-Za-z][A-Za-z0-9-]*
TABLE_MAX = 255  # DynamoDB: 3-255 of [A-Za-z0-9_.-]
BUCKET_MAX = 63  # S3: 3-63 of [a-z0-9.-], starting and ending with a letter or digit
USER_POOL_MAX = 128  # Cognito user pool: [\w\s+=,.@-]+
USER_POOL_CLIENT_MAX = 128  # Cognito app client
FUNCTION_MAX = 64  # Lambda: [A-Za-z0-9_-]
LOG_GROUP_MAX = 512  # CloudWatch Logs
SECRET_MAX = 512  # Secrets Manager: [A-Za-z0-9/_+=.@-]
BUDGET_MAX = 100  # AWS Budgets (no ':' or '\')
REST_API_MAX = 1024  # API Gateway (no documented character rule; ours are [A-Za-z0-9-])
CF_FUNCTION_MAX = 64  # CloudFront function: [A-Za-z0-9_-]
HEADERS_POLICY_MAX = 128  # CloudFront response headers policy
ANOMALY_MAX = 1024  # Cost Explorer monitor / subscription


def short_hash(text: str, length: int = HASH_LEN) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def fit(prefix: str, suffix: str, limit: int) -> str:
    """``prefix + suffix`` when it fits in ``limit``; else the prefix cut, ``-<hash of prefix>``, then the suffix."""
    if len(prefix) + len(suffix) <= limit:
        return prefix + suffix
    room = limit - len(suffix) - HASH_LEN - 1
    if room < 1:
        raise ValueError(f"suffix {suffix!r} leaves no room in a {limit}-character name")
    return prefix[:room].rstrip("-") + "-" + short_hash(prefix) + suffix


def slugify(name: str) -> str:
    """Free text (a branch name) -> ``[a-z0-9-]``, at most ``SLUG_MAX`` characters; "" when nothing is left.

    Lowercase; accents dropped (``é`` -> ``e``); every other run of characters becomes one ``-``. When
    characters are lost (``fix/登录``), or the slug is cut to ``SLUG_MAX``, a hash of the original is
    appended, so such names never collide. ``slugify(slugify(x)) == slugify(x)``: the slug names the
    same preview as the branch name it came from.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    lost = any(ord(ch) > 127 and not unicodedata.combining(ch) for ch in decomposed)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if not slug:
        return ""
    if lost:
        slug = f"{slug}-{short_hash(unicodedata.normalize('NFC', name))}"
    if len(slug) > SLUG_MAX:
        slug = slug[: SLUG_MAX - HASH_LEN - 1].rstrip("-") + "-" + short_hash(slug)
    return slug


# ---- the names of one environment's resources ---------------------------------------------------


def stack_name(project: str, env_name: str) -> str:
    return fit(f"{project}-{env_name}", "", STACK_MAX)


def table_name(stack: str) -> str:
    return fit(stack, "-data", TABLE_MAX)


def secret_name(stack: str, key: str) -> str:
    """``<stack>/<key>``; ``key`` "" gives the prefix every secret of the stack shares."""
    return fit(stack, f"/{key}", SECRET_MAX)


def bucket_name(project: str, env_name: str, account: str, region: str) -> str:
    """``<project>-<env>-frontend-<account>-<region>``, lowercase, at most 63 characters.

    ``account`` may be a CDK token (unknown at synth): the length budget assumes 12 digits.
    """
    tail = f"-{'0' * 12}-{region}"
    head = fit(f"{project.lower()}-{env_name}", "-frontend", BUCKET_MAX - len(tail))
    return f"{head}-{account}-{region}"


def resource_names(stack: str) -> dict[str, str]:
    """Every other explicit resource name of the stack, keyed by what it names."""
    function = fit(stack, "-api", FUNCTION_MAX)
    return {
        "user_pool": fit(stack, "-users", USER_POOL_MAX),
        "user_pool_client": fit(stack, "-web", USER_POOL_CLIENT_MAX),
        "function": function,
        "function_log_group": fit("/aws/lambda/", function, LOG_GROUP_MAX),
        "rest_api": fit(stack, "-api", REST_API_MAX),
        "spa_function": fit(stack, "-spa-routing", CF_FUNCTION_MAX),
        "headers_policy": fit(stack, "-security-headers", HEADERS_POLICY_MAX),
        "budget": fit(stack, "-monthly", BUDGET_MAX),
        "anomaly_monitor": fit(stack, "-anomalies", ANOMALY_MAX),
    }
