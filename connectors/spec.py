"""The typed API description of a subsystem, parsed from the `api:` section of its YAML file.

The YAML is the connector (dlt `rest_api` / Airbyte low-code style): which Airflow connection
holds the base URL and credentials, how to authenticate, how the vendor signals errors,
expiry and throttling, how it pages, and per resource the path, primary key, cursor and field
hints. `connectors/README.md` documents every key. A bad file is refused with one line naming
the file, the field and the fix, as `include/registry.py` does for the rest of the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from include import settings
from include.registry import Registry, RegistryError, Subsystem, load_registry

ACTIONS = ("refresh", "retry", "fail")
BODY_STYLES = ("query", "json", "form")
# Date formats in the vendors' own notation (as the API docs write them), plus two specials.
DATE_TOKENS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
SPECIAL_FORMATS = ("iso", "epoch_ms")
ID_FORMATS = ("gb11643",)
API_FIELDS = {
    "connection", "timeout", "rate_limit", "concurrency", "max_attempts", "auth", "responses",
    "defaults", "resources",
}  # fmt: skip
RESOURCE_FIELDS = {
    "description", "path", "method", "body", "params", "primary_key", "key_from", "cursor",
    "pagination", "required", "fields", "for_each", "detail", "recurse", "land", "auth",
    "responses",
}  # fmt: skip
CURSOR_FIELDS = {
    "field", "format", "param_format", "since_param", "until_param", "max_span", "lookback",
    "initial", "until_margin", "until_inclusive",
}  # fmt: skip
DEFAULTS_FIELDS = {"method", "body", "params", "pagination", "cursor"}
AUTH_FIELDS = {"type", "login", "success", "token_path", "send", "params", "signature"}
LOGIN_FIELDS = {"method", "path", "json", "form", "params"}
SEND_FIELDS = {"header", "query", "value"}
SIGNATURE_FIELDS = {"param", "algorithm", "value"}
RESPONSES_FIELDS = {"success", "message_path", "rules"}
MATCH_FIELDS = {"status", "path", "in", "equals", "exists", "action", "wait"}
FIELD_HINT_FIELDS = {"code_set", "format"}
FOR_EACH_FIELDS = {"resource", "field", "param", "batch", "include", "values"}
DETAIL_FIELDS = {"path", "id_param", "method", "body", "records"}
RECURSE_FIELDS = {"field", "param"}
PAGINATION_FIELDS = {
    "type", "records", "total", "pages", "has_more", "next_cursor", "next", "page_param",
    "size_param", "size", "start", "offset_param", "cursor_param", "verify_total", "overlap",
}  # fmt: skip


class SpecError(RegistryError):
    """An `api:` section is wrong: one line with file, field, problem and fix."""


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
    action: str  # refresh | retry | fail
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
    code_set: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class ForEach:
    resource: str | None  # the parent resource (None with `values`)
    field: str | None
    param: str
    batch: int | None = None
    include: tuple[Any, ...] = ()  # values added to the parent's
    values: tuple[Any, ...] = ()  # a fixed list instead of a parent


@dataclass(frozen=True)
class Detail:
    path: str
    id_param: str
    method: str = "POST"
    body: str = "json"
    records: str | None = None


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
    auth: Auth | None = None  # this resource's own auth (another API generation), else api.auth
    responses: Responses | None = None  # likewise for api.responses


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


def strftime_pattern(fmt: str) -> str:
    """`yyyy-MM-dd HH:mm:ss` → `%Y-%m-%d %H:%M:%S`."""
    return re.sub("|".join(DATE_TOKENS), lambda m: DATE_TOKENS[m.group(0)], fmt)


def is_date_format(fmt: str) -> bool:
    if fmt in SPECIAL_FORMATS:
        return True
    rest = re.sub("|".join(DATE_TOKENS), "", fmt)
    return "yyyy" in fmt and not re.search(r"[A-Za-z]", rest.replace("T", ""))


def parse_duration(text: Any) -> timedelta:
    m = re.fullmatch(r"\s*(\d+)\s*([dhms])\s*", str(text))
    if not m:
        raise ValueError(text)
    n, unit = int(m.group(1)), m.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[unit]: n})


# -- parsing ----------------------------------------------------------------------------------


class _Reader:
    """Reads one file's api section, raising SpecError that names file and field."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, problem: str, fix: str) -> SpecError:
        return SpecError(self.path, where, problem, fix)

    def mapping(self, value: Any, where: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping", "write `key: value` fields under it")
        return value

    def known(self, data: dict, allowed: set[str], where: str) -> None:
        import difflib

        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, 1)
                hint = f"did you mean '{close[0]}'?" if close else "see connectors/README.md"
                raise self.fail(f"{where}.{key}", "unknown field", hint)

    def text(self, data: dict, key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "missing or empty", f"add `{key}:` with a value")
        return value

    def number(self, data: dict, key: str, where: str, default: float, positive=True) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"{where}.{key}", f"'{value}' is not a positive number", "e.g. 30")
        return value

    def duration(self, data: dict, key: str, where: str) -> timedelta | None:
        if data.get(key) is None:
            return None
        try:
            return parse_duration(data[key])
        except ValueError:
            raise self.fail(
                f"{where}.{key}", f"'{data[key]}' is not a duration", "write e.g. 31d, 12h or 30m"
            ) from None

    def date_format(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not is_date_format(value):
            raise self.fail(
                where,
                f"'{value}' is not a date format",
                "use the vendor notation (yyyy-MM-dd HH:mm:ss, yyyyMMdd …), iso or epoch_ms",
            )
        return value

    def match(self, data: Any, where: str) -> Match:
        data = self.mapping(data, where)
        self.known(data, MATCH_FIELDS, where)
        status = data.get("status", ())
        status = tuple(status if isinstance(status, list) else [status] if status else [])
        if not all(isinstance(s, int) for s in status):
            raise self.fail(f"{where}.status", "must be HTTP status codes", "e.g. [401, 403]")
        values = data.get("in", [data["equals"]] if "equals" in data else [])
        if not isinstance(values, list):
            values = [values]
        path = data.get("path")
        if path is None and not status:
            raise self.fail(where, "matches nothing", "give `status:` and/or `path:` with `in:`")
        if path is not None and not values and not data.get("exists"):
            raise self.fail(where, "a path without values", "add `in: [...]` or `exists: true`")
        return Match(status, path, tuple(_text(v) for v in values), bool(data.get("exists")))


def _checked(r: _Reader, check, data: dict, where: str) -> None:
    """Run a config class's own check (connectors/auth.py, paginators.py) as a SpecError."""
    from connectors.paginators import ConfigProblem

    try:
        check(data)
    except ConfigProblem as p:
        raise r.fail(f"{where}{p.key}", p.problem, p.fix) from None


def _auth(r: _Reader, data: Any, where: str = "api.auth") -> Auth:
    from connectors import auth

    data = r.mapping(data, where) or {"type": "none"}
    r.known(data, AUTH_FIELDS, where)
    login = r.mapping(data.get("login"), f"{where}.login")
    r.known(login, LOGIN_FIELDS, f"{where}.login")
    send = r.mapping(data.get("send"), f"{where}.send")
    r.known(send, SEND_FIELDS, f"{where}.send")
    sig = r.mapping(data.get("signature"), f"{where}.signature")
    r.known(sig, SIGNATURE_FIELDS, f"{where}.signature")
    _checked(r, auth.check, {**data, "login": login, "send": send, "signature": sig}, where)
    return Auth(
        type=data.get("type", "none"),
        login=login or None,
        success=r.match(data["success"], f"{where}.success") if data.get("success") else None,
        token_path=data.get("token_path"),
        send_header=send.get("header"),
        send_query=send.get("query"),
        send_value=send.get("value", "{token}"),
        params=r.mapping(data.get("params"), f"{where}.params"),
        signature_param=sig.get("param"),
        signature_algorithm=sig.get("algorithm", "sha1"),
        signature_value=sig.get("value", ""),
    )


def _responses(r: _Reader, data: Any, where: str = "api.responses") -> Responses:
    data = r.mapping(data, where)
    r.known(data, RESPONSES_FIELDS, where)
    rules = []
    for i, rule in enumerate(data.get("rules") or []):
        w = f"{where}.rules[{i}]"
        rule = r.mapping(rule, w)
        if rule.get("action") not in ACTIONS:
            raise r.fail(
                f"{w}.action", f"'{rule.get('action')}'", f"use one of {', '.join(ACTIONS)}"
            )
        rules.append(Rule(r.match(rule, w), rule["action"], rule.get("wait")))
    success = r.match(data["success"], f"{where}.success") if data.get("success") else None
    return Responses(success, data.get("message_path"), tuple(rules))


def _pagination(r: _Reader, data: dict, where: str) -> Pagination:
    from connectors import paginators

    r.known(data, PAGINATION_FIELDS, where)
    _checked(r, paginators.check, data, where)
    plain = {k: data.get(k) for k in PAGINATION_FIELDS if k not in ("verify_total", "overlap")}
    plain["type"] = data.get("type", "single")
    return Pagination(
        **plain, verify_total=bool(data.get("verify_total", True)), overlap=data.get("overlap", 0)
    )


def _cursor(r: _Reader, data: dict, where: str) -> Cursor:
    r.known(data, CURSOR_FIELDS, where)
    fmt = r.date_format(r.text(data, "format", where), f"{where}.format")
    param_format = r.date_format(data.get("param_format", fmt), f"{where}.param_format")
    initial = str(data.get("initial", "1970-01-01"))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|-\d+[dh]", initial):
        raise r.fail(f"{where}.initial", f"'{initial}'", "write a date (2025-09-01) or -365d")
    if not (data.get("since_param")):
        raise r.fail(f"{where}.since_param", "missing", "name the request's `>=` parameter")
    return Cursor(
        field=r.text(data, "field", where),
        format=fmt,
        param_format=param_format,
        since_param=data.get("since_param"),
        until_param=data.get("until_param"),
        max_span=r.duration(data, "max_span", where),
        lookback=r.duration(data, "lookback", where) or timedelta(0),
        initial=initial,
        until_margin=r.duration(data, "until_margin", where) or timedelta(days=1),
        until_inclusive=bool(data.get("until_inclusive", False)),
    )


def _merge(default: dict, override: dict) -> dict:
    return {**default, **override}


def _fields(r: _Reader, data: Any, where: str) -> dict[str, FieldHint]:
    fields = {}
    for fname, hint in r.mapping(data, where).items():
        w = f"{where}.{fname}"
        hint = r.mapping(hint, w)
        r.known(hint, FIELD_HINT_FIELDS, w)
        fmt = hint.get("format")
        if fmt is not None and fmt not in ID_FORMATS:
            r.date_format(fmt, f"{w}.format")
        if hint.get("code_set") is not None:
            from connectors.validate import code_set_names

            if hint["code_set"] not in code_set_names():
                raise r.fail(
                    f"{w}.code_set",
                    f"no code set '{hint['code_set']}'",
                    f"use one of {', '.join(code_set_names())} (dbt_project/seeds/codes/)",
                )
        fields[fname] = FieldHint(hint.get("code_set"), fmt)
    return fields


def _for_each(r: _Reader, data: Any, where: str) -> ForEach | None:
    if data is None:
        return None
    fe = r.mapping(data, where)
    r.known(fe, FOR_EACH_FIELDS, where)
    if fe.get("values") is not None:  # a fixed list (DingTalk process codes): no parent request
        values = fe["values"]
        if not isinstance(values, list) or not values:
            raise r.fail(f"{where}.values", "must be a non-empty list", "e.g. [PROC-A1, PROC-B2]")
        if fe.get("resource") is not None or fe.get("field") is not None:
            raise r.fail(where, "both values and resource", "keep values: or resource: + field:")
        param = r.text(fe, "param", where)
        return ForEach(None, None, param, fe.get("batch"), tuple(fe.get("include") or ()),
                       tuple(values))  # fmt: skip
    return ForEach(
        r.text(fe, "resource", where),
        r.text(fe, "field", where),
        r.text(fe, "param", where),
        fe.get("batch"),
        tuple(fe.get("include") or ()),
    )


def _detail(r: _Reader, data: Any, where: str) -> Detail | None:
    if data is None:
        return None
    de = r.mapping(data, where)
    r.known(de, DETAIL_FIELDS, where)
    method, body = _method_body(r, de, {"method": "POST"}, where)
    return Detail(
        r.text(de, "path", where), r.text(de, "id_param", where), method, body, de.get("records")
    )


def _resource(r: _Reader, name: str, data: Any, defaults: dict) -> Resource:
    where = f"api.resources.{name}"
    data = r.mapping(data, where)
    r.known(data, RESOURCE_FIELDS, where)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise r.fail(where, f"'{name}' is not snake_case", "it becomes a table name: use a-z0-9_")
    method, body = _method_body(r, data, defaults, where)
    land = bool(data.get("land", True))
    pk = data.get("primary_key")
    pk = [pk] if isinstance(pk, str) else pk
    if land and (not isinstance(pk, list) or not pk or not all(isinstance(k, str) for k in pk)):
        raise r.fail(f"{where}.primary_key", "missing", "list the key field(s), e.g. [xh]")
    key_from = data.get("key_from", "record")
    if key_from not in ("record", "id"):
        raise r.fail(f"{where}.key_from", f"'{key_from}'", "use record or id")
    pag = _merge(r.mapping(defaults.get("pagination"), "api.defaults.pagination"),
                 r.mapping(data.get("pagination"), f"{where}.pagination"))  # fmt: skip
    required = data.get("required") or []
    if not isinstance(required, list):
        raise r.fail(f"{where}.required", "must be a list", "e.g. [xh, xm]")
    detail = _detail(r, data.get("detail"), f"{where}.detail")
    if key_from == "id" and detail is None:
        raise r.fail(f"{where}.key_from", "id needs a detail: request", "add detail: or use record")
    params = _merge(r.mapping(defaults.get("params"), "api.defaults.params"),
                    r.mapping(data.get("params"), f"{where}.params"))  # fmt: skip
    return Resource(
        name=name,
        path=r.text(data, "path", where),
        method=method,
        body=body,
        params=params,
        primary_key=tuple(pk or ()),
        key_from=key_from,
        cursor=_resource_cursor(r, data.get("cursor"), defaults, f"{where}.cursor"),
        pagination=_pagination(r, pag, f"{where}.pagination"),
        required=tuple(required),
        fields=_fields(r, data.get("fields"), f"{where}.fields"),
        for_each=_for_each(r, data.get("for_each"), f"{where}.for_each"),
        detail=detail,
        recurse=_recurse(r, data.get("recurse"), f"{where}.recurse"),
        land=land,
        description=str(data.get("description", "")),
        **_own_protocol(r, data, where),
    )


def _method_body(r: _Reader, data: dict, defaults: dict, where: str) -> tuple[str, str]:
    method = str(data.get("method", defaults.get("method", "GET"))).upper()
    if method not in ("GET", "POST"):
        raise r.fail(f"{where}.method", f"'{method}'", "use GET or POST")
    body = data.get("body", defaults.get("body", "query" if method == "GET" else "json"))
    if body not in BODY_STYLES:
        raise r.fail(f"{where}.body", f"'{body}'", f"use one of {', '.join(BODY_STYLES)}")
    return method, body


def _resource_cursor(r: _Reader, data: Any, defaults: dict, where: str) -> Cursor | None:
    if data is None:
        return None
    cur = _merge(r.mapping(defaults.get("cursor"), "api.defaults.cursor"), r.mapping(data, where))
    return _cursor(r, cur, where)


def _recurse(r: _Reader, data: Any, where: str) -> Recurse | None:
    if data is None:
        return None
    rc = r.mapping(data, where)
    r.known(rc, RECURSE_FIELDS, where)
    return Recurse(r.text(rc, "field", where), r.text(rc, "param", where))


def _own_protocol(r: _Reader, data: dict, where: str) -> dict:
    """A resource's own `auth:` / `responses:` (a second API generation in one file)."""
    own = {}
    if data.get("auth") is not None:
        own["auth"] = _auth(r, data["auth"], f"{where}.auth")
    if data.get("responses") is not None:
        own["responses"] = _responses(r, data["responses"], f"{where}.responses")
    return own


def parse_api(subsystem: Subsystem) -> ApiSpec:
    """The typed API description of one subsystem file (which must have an `api:` section)."""
    r = _Reader(subsystem.source_file)
    api = r.mapping(subsystem.api, "api")
    r.known(api, API_FIELDS, "api")
    connection = r.text(api, "connection", "api")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", connection):
        raise r.fail("api.connection", f"'{connection}'", "use a snake_case Airflow conn id")
    defaults = r.mapping(api.get("defaults"), "api.defaults")
    r.known(defaults, DEFAULTS_FIELDS, "api.defaults")
    resources_raw = r.mapping(api.get("resources"), "api.resources")
    if not resources_raw:
        raise r.fail("api.resources", "no resources", "describe at least one endpoint")
    resources = {n: _resource(r, n, d, defaults) for n, d in resources_raw.items()}
    for res in resources.values():
        if res.for_each and res.for_each.resource and res.for_each.resource not in resources:
            raise r.fail(
                f"api.resources.{res.name}.for_each.resource",
                f"unknown resource '{res.for_each.resource}'",
                f"use one of {', '.join(resources)}",
            )
    concurrency = api.get("concurrency", 1)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise r.fail("api.concurrency", f"'{concurrency}'", "a positive integer, e.g. 1")
    max_attempts = api.get("max_attempts", 8)
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise r.fail("api.max_attempts", f"'{max_attempts}'", "a positive integer, e.g. 8")
    return ApiSpec(
        subsystem=subsystem.id,
        source_file=subsystem.source_file,
        connection=connection,
        timeout=r.number(api, "timeout", "api", 30),
        rate_limit=r.number(api, "rate_limit", "api", 20),
        concurrency=concurrency,
        max_attempts=max_attempts,
        auth=_auth(r, api.get("auth")),
        responses=_responses(r, api.get("responses")),
        resources=resources,
    )


# -- the registry as the connectors see it ----------------------------------------------------


def subsystems_dir() -> Path:
    """The folder of subsystem files; XIAOBEN_SUBSYSTEMS_DIR points elsewhere (tests, trials)."""
    return Path(os.environ.get("XIAOBEN_SUBSYSTEMS_DIR") or settings.SUBSYSTEMS_DIR)


@cache
def _registry_at(path: str) -> Registry:
    return load_registry(Path(path))


def registry() -> Registry:
    return _registry_at(str(subsystems_dir().resolve()))


def api_specs() -> dict[str, ApiSpec]:
    """Every subsystem file that has an `api:` section, by id, in file-name order."""
    return {sid: spec_for(sid) for sid, s in registry().subsystems.items() if s.api is not None}


@cache
def _spec(path: str, sid: str) -> ApiSpec:
    return parse_api(_registry_at(path).subsystems[sid])


def spec_for(subsystem_id: str) -> ApiSpec:
    return _spec(str(subsystems_dir().resolve()), subsystem_id)
