"""The typed API description of a subsystem, built from the `api:` section of its YAML file.

The YAML is the connector (dlt `rest_api` / Airbyte low-code style): which Airflow connection
holds the base URL and credentials, how to authenticate, how the vendor signals errors,
expiry and throttling, how it pages, and per resource the path, primary key, cursor and field
declarations. `connectors/README.md` documents every key. The file is validated, with the rest
of it, by the one validator in `include/registry.py` (pydantic); this module holds the frozen
shapes the HTTP client reads and the small helpers it shares with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ID_FORMATS = ("gb11643",)


# -- the typed description --------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A condition on a response: HTTP status and/or a value at a dotted path of the JSON body."""

    status: tuple[int, ...] = ()
    path: str | None = None
    values: tuple[str, ...] = ()  # compared as text: vendors mix 0 and "0"
    exists: bool = False

    def matches(self, status: int, body: Any) -> bool:
        if self.status and status not in self.status:
            return False
        if self.path is None:
            return bool(self.status)
        found, value = lookup(body, self.path)
        if not found:
            return False
        return True if self.exists else _text(value) in self.values


@dataclass(frozen=True)
class Rule:
    when: Match
    action: str  # refresh | retry | fail | not_submitted
    wait: float | str | None = None  # seconds, or a body path holding them (DingTalk's `wait`)


@dataclass(frozen=True)
class Responses:
    success: Match | None
    message_path: str | None
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Auth:
    type: str
    login: dict[str, Any] | None = None  # {method, path, json|form|params}
    success: Match | None = None
    token_path: str | None = None
    send_header: str | None = None
    send_query: str | None = None
    send_value: str = "{token}"
    params: dict[str, Any] = field(default_factory=dict)  # signature: params added to requests
    signature_param: str | None = None
    signature_algorithm: str = "sha1"
    signature_value: str = ""


@dataclass(frozen=True)
class Pagination:
    type: str
    records: str | None = None  # dotted path of the record list; None = the body is the list
    total: str | None = None
    pages: str | None = None
    has_more: str | None = None
    next_cursor: str | None = None
    next: str | None = None
    page_param: str | None = None
    size_param: str | None = None
    size: int | None = None
    start: Any = None
    offset_param: str | None = None
    cursor_param: str | None = None
    verify_total: bool = True  # re-pull while unique records < the reported total (page drift)
    overlap: int = 0  # offset paging: records each page re-reads from the previous one


@dataclass(frozen=True)
class Cursor:
    field: str
    format: str  # how the record writes it
    param_format: str  # how the request wants it
    since_param: str | None
    until_param: str | None
    max_span: timedelta | None = None
    lookback: timedelta = timedelta(0)
    initial: str = "1970-01-01"
    until_margin: timedelta = timedelta(days=1)
    until_inclusive: bool = False  # the API's upper bound is `<=`: send until minus 1 second


@dataclass(frozen=True)
class FieldHint:
    """A declared source field (`fields:` of a resource): landing checks, staging column."""

    code_set: str | None = None
    format: str | None = None
    column: str | None = None  # English column name in staging
    type: str | None = None  # code | text | int | number | amount | date | timestamp | bool | json
    description: str | None = None  # Chinese description
    pii: str | None = None  # id_number | phone | bank_card | address | name
    tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForEach:
    resource: str | None  # the parent resource (None with `values`)
    field: str | None
    param: str
    batch: int | None = None
    include: tuple[Any, ...] = ()  # values added to the parent's
    values: tuple[Any, ...] = ()  # a fixed list instead of a parent resource


@dataclass(frozen=True)
class Condition:
    """A condition on a record (`detail.final`): a value at a dotted path, or its presence."""

    path: str
    values: tuple[str, ...] = ()  # compared as text, like a response match
    exists: bool = False  # present and not null or ""


@dataclass(frozen=True)
class Detail:
    path: str
    id_param: str
    method: str = "POST"
    body: str = "json"
    records: str | None = None
    # A landed version meeting every condition does not change at the source any more
    # (a DingTalk instance COMPLETED with a finish time): incremental pulls skip its get.
    # Evaluated on the landed payloads in SQL: Landing.final_keys().
    final: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Recurse:
    field: str
    param: str


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    method: str
    body: str
    params: dict[str, Any]
    primary_key: tuple[str, ...]
    key_from: str  # record | id (list-ids-then-get: the id is not in the record)
    cursor: Cursor | None
    pagination: Pagination
    required: tuple[str, ...]
    fields: dict[str, FieldHint]
    for_each: ForEach | None
    detail: Detail | None
    recurse: Recurse | None
    land: bool
    description: str = ""
    auth: Auth | None = None  # per-resource override (a vendor speaking two API generations)
    responses: Responses | None = None
    derived_columns: tuple[dict, ...] = ()  # columns a hand-written staging model computes


@dataclass(frozen=True)
class ApiSpec:
    subsystem: str
    source_file: Path
    connection: str
    timeout: float
    rate_limit: float
    concurrency: int
    max_attempts: int
    auth: Auth
    responses: Responses
    resources: dict[str, Resource]

    @property
    def landed(self) -> list[str]:
        """Resources that have a raw table, in stable order."""
        return sorted(n for n, r in self.resources.items() if r.land)


# -- helpers shared with the client -----------------------------------------------------------


def lookup(body: Any, path: str | None) -> tuple[bool, Any]:
    """Value at a dotted path of a JSON body: (found, value)."""
    if path is None:
        return True, body
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_duration(text: Any) -> timedelta:
    m = re.fullmatch(r"\s*(\d+)\s*([dhms])\s*", str(text))
    if not m:
        raise ValueError(text)
    n, unit = int(m.group(1)), m.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[unit]: n})


# -- the registry as the connectors see it (one loader and validator: include/registry.py) ----


def registry():
    from include.registry import registry

    return registry()


def api_specs() -> dict[str, ApiSpec]:
    """Every valid subsystem file that has an `api:` section, by id, in file-name order."""
    from include.registry import api_specs

    return api_specs()


def spec_for(subsystem_id: str) -> ApiSpec:
    from include.registry import spec_for

    return spec_for(subsystem_id)


def subsystems_dir() -> Path:
    from include.registry import subsystems_path

    return subsystems_path()


def __getattr__(name: str):
    """`SpecError` moved: the one validator (include/registry.py) raises RegistryError."""
    if name == "SpecError":
        from include.registry import RegistryError

        return RegistryError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
