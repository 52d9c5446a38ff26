"""tmkit/naming.py: preview slugs and every derived AWS name fit AWS's length and character rules, for any name."""

from __future__ import annotations

import random
import re

import pytest

from tmkit import naming

LONG_BRANCH = (
    "Feature/JIRA-1234 Add Login Page with Ünïcode, Spaces and CAPITALS for the new onboarding flow (v2) and more/words"
)
# AWS rules: (max length, full-match pattern). Sources: each service's API reference for the name parameter.
RULES = {
    "stack": (128, r"[A-Za-z][A-Za-z0-9-]*"),
    "table": (255, r"[A-Za-z0-9_.-]{3,255}"),
    "bucket": (63, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    "user_pool": (128, r"[\w\s+=,.@-]+"),
    "user_pool_client": (128, r"[\w\s+=,.@-]+"),
    "function": (64, r"[A-Za-z0-9_-]+"),
    "function_log_group": (512, r"[\w#/.-]+"),
    "rest_api": (1024, r"[A-Za-z0-9-]+"),
    "spa_function": (64, r"[A-Za-z0-9_-]+"),
    "headers_policy": (128, r"[A-Za-z0-9_-]+"),
    "budget": (100, r"[^:\\]+"),
    "anomaly_monitor": (1024, r"[\w .:/=+@-]+"),
    "secret": (512, r"[A-Za-z0-9/_+=.@-]+"),
}
REGIONS = ("us-east-1", "ap-southeast-2", "us-gov-west-1", "eu-central-1")
ALPHABET = "abcXYZ019 -_/.:#@!é登ßÅ\t\u200b'\"😀"


def all_names(project: str, env_name: str, region: str = "us-east-1", account: str = "123456789012") -> dict:
    stack = naming.stack_name(project, env_name)
    return {
        "stack": stack,
        "table": naming.table_name(stack),
        "bucket": naming.bucket_name(project, env_name, account, region),
        "secret": naming.secret_name(stack, "SMTP_PASSWORD"),
        **naming.resource_names(stack),
    }


def assert_valid(names: dict) -> None:
    for kind, (limit, pattern) in RULES.items():
        value = names[kind]
        assert len(value) <= limit, f"{kind} {value!r} is {len(value)} > {limit}"
        assert re.fullmatch(pattern, value), f"{kind} {value!r} breaks {pattern}"
    assert ".." not in names["bucket"] and not names["bucket"].startswith("xn--")


def test_slug_of_a_branch_name():
    assert naming.slugify("feature/Add login page") == "feature-add-login-page"
    assert naming.slugify("pr-42") == "pr-42"
    assert naming.slugify("  Fix__THE--bug!! ") == "fix-the-bug"


def test_a_name_without_letters_or_digits_slugs_to_nothing():
    for name in ("", "///", " -- ", "!!!", "_"):
        assert naming.slugify(name) == ""


def test_a_long_name_is_cut_with_a_hash_and_never_collides():
    a = naming.slugify(LONG_BRANCH)
    b = naming.slugify(LONG_BRANCH.replace("more/words", "more/wordz"))
    assert len(a) <= naming.SLUG_MAX and len(b) <= naming.SLUG_MAX
    assert a != b and a[:16] == b[:16]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", a)


def test_characters_that_are_dropped_add_a_hash():
    assert naming.slugify("fix/登录") != naming.slugify("fix/注册")
    assert naming.slugify("fix/登录").startswith("fix-")
    assert naming.slugify("Café") == "cafe"  # only an accent lost: the same word


def test_a_slug_is_its_own_slug():
    for name in (LONG_BRANCH, "feature/Add login page", "fix/登录", "pr-42"):
        slug = naming.slugify(name)
        assert naming.slugify(slug) == slug


def test_names_that_fit_are_unchanged():
    """Existing environments keep every resource name."""
    names = all_names("TimeManagement", "dev")
    assert names["stack"] == "TimeManagement-dev"
    assert names["table"] == "TimeManagement-dev-data"
    assert names["bucket"] == "timemanagement-dev-frontend-123456789012-us-east-1"
    assert names["function"] == "TimeManagement-dev-api"
    assert names["function_log_group"] == "/aws/lambda/TimeManagement-dev-api"
    assert names["secret"] == "TimeManagement-dev/SMTP_PASSWORD"
    assert names["spa_function"] == "TimeManagement-dev-spa-routing"
    assert names["budget"] == "TimeManagement-dev-monthly"


def test_every_derived_name_of_the_longest_preview_fits():
    project = "P" + "x" * 30  # the longest project name the env file accepts
    env_name = f"{'b' * 16}-{naming.slugify(LONG_BRANCH)}"
    names = all_names(project, env_name, region="ap-southeast-2")
    assert_valid(names)
    assert names["function"].endswith("-api") and names["spa_function"].endswith("-spa-routing")
    assert names["bucket"].endswith("-frontend-123456789012-ap-southeast-2")


def test_fit_cuts_the_prefix_and_keeps_the_suffix():
    prefix = "A" * 100
    fitted = naming.fit(prefix, "-api", 64)
    assert len(fitted) == 64 and fitted.endswith("-api") and fitted != naming.fit("A" * 99 + "B", "-api", 64)
    with pytest.raises(ValueError):
        naming.fit("x" * 10, "-" * 60, 64)


def test_a_token_account_keeps_the_bucket_within_63_characters():
    """At synth the account may be a CDK token: the name is fitted for a 12-digit account."""
    name = naming.bucket_name(
        "TimeManagement", "local-feature-jira-123-db9c591", "${Token[AWS.AccountId.1]}", "us-east-1"
    )
    assert name.replace("${Token[AWS.AccountId.1]}", "123456789012") == naming.bucket_name(
        "TimeManagement", "local-feature-jira-123-db9c591", "123456789012", "us-east-1"
    )


def test_random_names_always_give_valid_distinct_names():
    """Property check over 1500 random branch names (seeded, bounded): valid names, no two previews share one."""
    rng = random.Random(12)
    groups: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for _ in range(1500):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 160)))
        slug = naming.slugify(text)
        if not slug:
            continue
        assert len(slug) <= naming.SLUG_MAX and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), (text, slug)
        assert naming.slugify(slug) == slug
        context = (rng.choice(["TimeManagement", "P" + "x" * 30]), rng.choice(REGIONS))
        env_name = f"{rng.choice(['dev', 'local', 'b' * 16])}-{slug}"
        names = all_names(context[0], env_name, context[1])
        assert_valid(names)
        groups.setdefault(context, {})[env_name] = names
    assert sum(len(g) for g in groups.values()) > 1000
    for envs in groups.values():  # in one project and region, two environments never share a name
        for kind in RULES:
            values = [n[kind] for n in envs.values()]
            assert len(set(values)) == len(values), kind
