"""Environment configuration: ``envs/<name>.toml`` -> validated, frozen ``EnvConfig``.

This module is the only reader of ``envs/`` and (with ``infra/app.py``) of the process
environment for configuration. Everything downstream receives an ``EnvConfig``.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator, model_validator

from tmkit import naming
from tmkit.errors import ToolkitError
from tmkit.paths import ENVS_DIR, ROOT
from tmkit.ui import clip

ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
# A preview's part of ``BASE-<slug>`` (tmkit/naming.py slugify: lowercase letters, digits, inner dashes).
PREVIEW_SLUG_RE = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{naming.SLUG_MAX - 2}}}[a-z0-9])?$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
SECRET_KEY_RE = re.compile(r"^[A-Za-z0-9_.+=@-]{1,64}$")
# CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# Account id the local emulator reports for every caller (moto's MOTO_ACCOUNT_ID).
EMULATOR_ACCOUNT = "123456789012"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BudgetConfig(_Strict):
    monthly_limit_usd: float = Field(gt=0)
    emails: tuple[EmailStr, ...] = Field(min_length=1)
    anomaly_monitor: bool = False

    @field_validator("monthly_limit_usd", mode="before")
    @classmethod
    def _int_is_fine(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


class EmulatorConfig(_Strict):
    endpoint: str

    @field_validator("endpoint")
    @classmethod
    def _loopback_only(cls, v: str) -> str:
        if not re.fullmatch(r"http://localhost:\d{2,5}", v):
            raise ValueError(
                "must be http://localhost:PORT (loopback only; 'localhost', not 127.0.0.1, "
                "because the CDK CLI's template URLs break on an IP host)"
            )
        return v

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])


class PreviewConfig(_Strict):
    """The ``[preview]`` table: this environment may have previews (docs/environments.md, "Previews")."""

    ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    monthly_limit_usd: float = Field(default=5.0, gt=0)
    max_previews: int = Field(default=10, ge=1, le=100)

    @field_validator("monthly_limit_usd", mode="before")
    @classmethod
    def _int_is_fine(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


class EnvConfig(_Strict):
    name: str
    project: str = Field(default="TimeManagement", pattern=r"^[A-Za-z][A-Za-z0-9]{1,30}$")
    region: str
    account: str | None = None
    protected: bool = False
    removal_policy: Literal["retain", "destroy"]
    pitr: bool
    log_retention_days: int
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    secrets: tuple[str, ...] = ()
    secret_cache_seconds: int = Field(default=300, ge=0, le=86400)
    budget: BudgetConfig
    emulator: EmulatorConfig | None = None
    preview: PreviewConfig | None = None
    # Set only on a preview (derived by ``derive_preview``, never read from a file).
    preview_of: str | None = None
    extra_tags: tuple[tuple[str, str], ...] = ()

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not REGION_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not an AWS region name (e.g. 'us-east-1')")
        return v

    @field_validator("account")
    @classmethod
    def _account(cls, v: str | None) -> str | None:
        if v is not None and not ACCOUNT_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not a 12-digit AWS account id (write it as a quoted string)")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"{v} is not a CloudWatch Logs retention; use one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
            )
        return v

    @field_validator("secrets")
    @classmethod
    def _secret_keys(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for key in v:
            if not SECRET_KEY_RE.fullmatch(key):
                raise ValueError(f"{key!r} is not a valid secret key (letters, digits and _.+=@- only)")
        if len(set(v)) != len(v):
            raise ValueError("secret keys must be unique")
        return v

    @model_validator(mode="after")
    def _rules(self) -> EnvConfig:
        if self.name == "prod" and not self.protected:
            raise ValueError("the prod environment must set protected = true")
        if self.protected and self.removal_policy != "retain":
            raise ValueError(
                'a protected (prod) environment must set removal_policy = "retain" so data survives a destroy'
            )
        if self.protected and not self.pitr:
            raise ValueError("a protected (prod) environment must set pitr = true (point-in-time recovery)")
        if self.emulator is not None and self.account not in (None, EMULATOR_ACCOUNT):
            raise ValueError(
                f"an emulator-backed environment runs in account {EMULATOR_ACCOUNT}; drop 'account' or set it to that"
            )
        if self.protected and self.preview is not None:
            raise ValueError(
                "a protected environment may not have a [preview] table: preview a dev environment instead"
            )
        return self

    # ---- derived names: the one place each is spelled -------------------------------------
    @property
    def is_local(self) -> bool:
        return self.emulator is not None

    @property
    def stack_name(self) -> str:
        return naming.stack_name(self.project, self.name)

    @property
    def account_stack_name(self) -> str:
        """The per account and region stack (infra/account_stack.py) that `inv bootstrap` deploys."""
        return f"{self.project}-account"

    @property
    def account_stack_id(self) -> str:
        """Its id in the CDK app (one per project and region; the CLI selects it by this id)."""
        return f"{self.account_stack_name}-{self.region}"

    @property
    def table_name(self) -> str:
        return naming.table_name(self.stack_name)

    def secret_name(self, key: str) -> str:
        return naming.secret_name(self.stack_name, key)

    @property
    def is_preview(self) -> bool:
        return self.preview_of is not None

    @property
    def expected_account(self) -> str | None:
        return EMULATOR_ACCOUNT if self.is_local else self.account

    @property
    def endpoint_url(self) -> str | None:
        """Where AWS calls go: ``AWS_ENDPOINT_URL`` overrides (as in the AWS SDKs), else the emulator."""
        override = os.environ.get("AWS_ENDPOINT_URL")
        if override:
            return override
        return self.emulator.endpoint if self.emulator else None


def envs_dir() -> Path:
    """``TM_ENVS_DIR`` lets tests point the toolkit at extra environment files."""
    return Path(os.environ.get("TM_ENVS_DIR") or ENVS_DIR)


def available_envs() -> list[str]:
    return sorted(p.stem for p in envs_dir().glob("*.toml"))


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lists_to_tuples(value):
    """TOML arrays arrive as lists; the frozen model holds tuples (strict mode does not convert)."""
    if isinstance(value, dict):
        return {k: _lists_to_tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_lists_to_tuples(v) for v in value)
    return value


def derive_preview(base: EnvConfig, slug: str, tags: dict[str, str]) -> EnvConfig:
    """The preview ``<base>-<slug>`` of ``base``: its budget, disposable data, ``tags`` on every resource."""
    if base.preview is None:
        raise ToolkitError(
            f"environment '{base.name}' has no [preview] table, so it cannot have previews. "
            f'Add one to envs/{base.name}.toml (docs/environments.md, "Previews") or preview another environment.'
        )
    fields = base.model_dump(exclude={"name", "preview", "budget", "protected", "removal_policy", "pitr"})
    return EnvConfig.model_validate(
        {
            **fields,
            "name": f"{base.name}-{slug}",
            "removal_policy": "destroy",
            "pitr": False,
            "budget": {"monthly_limit_usd": base.preview.monthly_limit_usd, "emails": tuple(base.budget.emails)},
            "preview_of": base.name,
            "extra_tags": tuple(sorted(tags.items())),
        }
    )


def load_env(name: str) -> EnvConfig:
    """Load and validate ``envs/<name>.toml``, or find the deployed preview ``BASE-<slug>`` (tmkit/preview.py).

    Raises ``ToolkitError`` naming the file and field.
    """
    check_env_name(name)
    if "-" in name:
        from tmkit.preview import find_preview

        return find_preview(name)
    path = envs_dir() / f"{name}.toml"
    if not path.is_file():
        raise ToolkitError(
            f"unknown environment {name!r}: there is no {_rel(path)}. "
            f"Available: {', '.join(available_envs()) or '(none)'}. "
            "To add one, copy an existing file (see docs/environments.md); "
            "to create a preview of one, `inv preview.deploy --env BASE --name NAME`."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ToolkitError(f"{_rel(path)} is not valid TOML: {exc}. Fix the syntax and retry.") from None
    if "name" in data:
        raise ToolkitError(
            f"{_rel(path)}: field 'name' is not allowed: the environment name is the file name ({name})."
        )
    try:
        return EnvConfig(name=name, **_lists_to_tuples(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = _format_loc(err["loc"]) or "(file)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling; docs/environments.md lists every field)"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append(f"field '{field}': {msg}")
        raise ToolkitError(
            f"{_rel(path)} is invalid: " + "; ".join(problems) + f". Fix {_rel(path)} and retry."
        ) from None


def check_env_name(name: str, source: str | None = None) -> str:
    """Refuse a name that cannot be an environment (empty, blank, a path, capitals...) before anything uses it.

    An empty ``--env ''`` or ``ENVIRONMENT=`` is an error, never a silent fall-back to ``dev``
    (docs/environments.md, "Choosing the environment").
    """
    available = ", ".join(available_envs()) or "(none)"
    if not name or not name.strip():
        raise ToolkitError(
            f"{source or 'the environment name'} is empty ({name!r}): give an environment name "
            f"(e.g. `--env dev`), or leave it out to use the default. Available: {available}"
        )
    base, _, slug = name.partition("-")
    if not ENV_NAME_RE.fullmatch(base) or (_ and not PREVIEW_SLUG_RE.fullmatch(slug)):
        origin = f" from {source}" if source else ""
        shown = clip(name)  # a pasted blob is not echoed whole
        raise ToolkitError(
            f"unknown environment {shown!r}{origin}: names are 2 to 16 lowercase letters and digits, "
            f"starting with a letter (no spaces, dots or slashes), or a preview `BASE-<slug>`. Available: {available}"
        )
    return name


def _environment_setting() -> tuple[str, str] | None:
    """``ENVIRONMENT`` and where it was set (process, then the git-ignored root ``.env``); None when unset."""
    value = os.environ.get("ENVIRONMENT")
    if value is not None:
        return value, "ENVIRONMENT in the shell"
    dotenv = ROOT / ".env"
    if dotenv.is_file():
        from dotenv import dotenv_values  # only here: a task given --env never reads .env (docs/architecture.md)

        value = dotenv_values(dotenv).get("ENVIRONMENT")
        if value is not None:
            return value, "ENVIRONMENT in .env"
    return None


def read_dotenv_environment() -> str | None:
    """``ENVIRONMENT`` from the process, else from the git-ignored root ``.env``; None when unset or empty."""
    setting = _environment_setting()
    return (setting[0] or None) if setting else None


def resolve_env_name(explicit: str | None) -> str:
    """Task-side selection: ``--env``, else ``ENVIRONMENT`` (process, then ``.env``), else ``dev``.

    A name that is given but empty or malformed is refused (ToolkitError), never replaced by the default.
    """
    if explicit is not None:
        return check_env_name(explicit, "--env")
    setting = _environment_setting()
    if setting is not None:
        return check_env_name(*setting)
    return "dev"
