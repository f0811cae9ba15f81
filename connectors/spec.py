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
from include.rules.dates import is_date_format

AUTH_TYPES = ("none", "token", "session", "signature")
ACTIONS = ("refresh", "retry", "fail")
BODY_STYLES = ("query", "json", "form")
PAGINATION_TYPES = ("page_number", "offset", "cursor", "next_link", "single")
ID_FORMATS = ("gb11643",)
API_FIELDS = {
    "connection", "timeout", "rate_limit", "concurrency", "max_attempts", "auth", "responses",
    "defaults", "resources",
}  # fmt: skip
RESOURCE_FIELDS = {
    "description", "path", "method", "body", "params", "primary_key", "key_from", "cursor",
    "pagination", "required", "fields", "for_each", "detail", "recurse", "land",
}  # fmt: skip
CURSOR_FIELDS = {
    "field", "format", "param_format", "since_param", "until_param", "max_span", "lookback",
    "initial", "until_margin", "until_inclusive",
}  # fmt: skip
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
    resource: str
    field: str
    param: str
    batch: int | None = None
    include: tuple[Any, ...] = ()


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
        self.known(data, {"status", "path", "in", "equals", "exists", "action", "wait"}, where)
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


def _auth(r: _Reader, data: Any) -> Auth:
    where = "api.auth"
    data = r.mapping(data, where) or {"type": "none"}
    r.known(
        data, {"type", "login", "success", "token_path", "send", "params", "signature"}, where
    )  # fmt: skip
    kind = data.get("type", "none")
    if kind not in AUTH_TYPES:
        raise r.fail(
            f"{where}.type", f"unknown type '{kind}'", f"use one of {', '.join(AUTH_TYPES)}"
        )
    login = r.mapping(data.get("login"), f"{where}.login")
    if kind in ("token", "session"):
        r.text(login, "path", f"{where}.login")
        r.known(login, {"method", "path", "json", "form", "params"}, f"{where}.login")
    send = r.mapping(data.get("send"), f"{where}.send")
    r.known(send, {"header", "query", "value"}, f"{where}.send")
    if kind == "token":
        r.text(data, "token_path", where)
        if not (send.get("header") or send.get("query")):
            raise r.fail(
                f"{where}.send", "does not say where the token goes", "add header: or query:"
            )
    sig = r.mapping(data.get("signature"), f"{where}.signature")
    if kind == "signature":
        r.text(sig, "param", f"{where}.signature")
        r.text(sig, "value", f"{where}.signature")
        if sig.get("algorithm", "sha1") not in ("sha1", "sha256", "md5"):
            raise r.fail(f"{where}.signature.algorithm", "unknown", "use sha1, sha256 or md5")
    return Auth(
        type=kind,
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


def _responses(r: _Reader, data: Any) -> Responses:
    where = "api.responses"
    data = r.mapping(data, where)
    r.known(data, {"success", "message_path", "rules"}, where)
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
    r.known(data, PAGINATION_FIELDS, where)
    kind = data.get("type", "single")
    if kind not in PAGINATION_TYPES:
        raise r.fail(
            f"{where}.type", f"unknown type '{kind}'", f"use one of {', '.join(PAGINATION_TYPES)}"
        )
    needs = {
        "page_number": ("page_param", "size_param"),
        "offset": ("offset_param", "size_param"),
        "cursor": ("cursor_param",),
        "next_link": ("next",),
        "single": (),
    }[kind]
    for key in needs:
        r.text(data, key, where)
    if kind == "offset" and not (data.get("total") or data.get("has_more")):
        raise r.fail(where, "offset paging without an end signal", "add total: or has_more:")
    if kind == "cursor" and not (data.get("next_cursor") or data.get("has_more")):
        raise r.fail(where, "cursor paging without an end signal", "add next_cursor:")
    size = data.get("size")
    if size is not None and (not isinstance(size, int) or size <= 0):
        raise r.fail(f"{where}.size", f"'{size}' is not a positive integer", "e.g. 500")
    overlap = data.get("overlap", 0)
    if not isinstance(overlap, int) or overlap < 0 or (overlap and overlap >= (size or 0)):
        raise r.fail(f"{where}.overlap", f"'{overlap}'", "a small integer below size, e.g. 5")
    if overlap and kind != "offset":
        raise r.fail(f"{where}.overlap", "only offset paging can overlap", "remove it")
    plain = {k: data.get(k) for k in PAGINATION_FIELDS if k not in ("verify_total", "overlap")}
    return Pagination(**plain, verify_total=bool(data.get("verify_total", True)), overlap=overlap)


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


def _resource(r: _Reader, name: str, data: Any, defaults: dict) -> Resource:
    where = f"api.resources.{name}"
    data = r.mapping(data, where)
    r.known(data, RESOURCE_FIELDS, where)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise r.fail(where, f"'{name}' is not snake_case", "it becomes a table name: use a-z0-9_")
    method = str(data.get("method", defaults.get("method", "GET"))).upper()
    if method not in ("GET", "POST"):
        raise r.fail(f"{where}.method", f"'{method}'", "use GET or POST")
    body = data.get("body", defaults.get("body", "query" if method == "GET" else "json"))
    if body not in BODY_STYLES:
        raise r.fail(f"{where}.body", f"'{body}'", f"use one of {', '.join(BODY_STYLES)}")
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
    cursor = None
    if data.get("cursor") is not None:
        cur = _merge(r.mapping(defaults.get("cursor"), "api.defaults.cursor"),
                     r.mapping(data["cursor"], f"{where}.cursor"))  # fmt: skip
        cursor = _cursor(r, cur, f"{where}.cursor")
    required = data.get("required") or []
    if not isinstance(required, list):
        raise r.fail(f"{where}.required", "must be a list", "e.g. [xh, xm]")
    fields = {}
    for fname, hint in r.mapping(data.get("fields"), f"{where}.fields").items():
        w = f"{where}.fields.{fname}"
        hint = r.mapping(hint, w)
        r.known(hint, {"code_set", "format"}, w)
        fmt = hint.get("format")
        if fmt is not None and fmt not in ID_FORMATS:
            r.date_format(fmt, f"{w}.format")
        if hint.get("code_set") is not None:
            from include.rules.codes import names as code_set_names

            if hint["code_set"] not in code_set_names():
                raise r.fail(
                    f"{w}.code_set",
                    f"no code set '{hint['code_set']}'",
                    f"use one of {', '.join(code_set_names())} (dbt_project/seeds/codes/)",
                )
        fields[fname] = FieldHint(hint.get("code_set"), fmt)
    for_each = None
    if data.get("for_each") is not None:
        fe = r.mapping(data["for_each"], f"{where}.for_each")
        r.known(fe, {"resource", "field", "param", "batch", "include"}, f"{where}.for_each")
        for_each = ForEach(
            r.text(fe, "resource", f"{where}.for_each"),
            r.text(fe, "field", f"{where}.for_each"),
            r.text(fe, "param", f"{where}.for_each"),
            fe.get("batch"),
            tuple(fe.get("include") or ()),
        )
    detail = None
    if data.get("detail") is not None:
        de = r.mapping(data["detail"], f"{where}.detail")
        r.known(de, {"path", "id_param", "method", "body", "records"}, f"{where}.detail")
        detail = Detail(
            r.text(de, "path", f"{where}.detail"),
            r.text(de, "id_param", f"{where}.detail"),
            str(de.get("method", "POST")).upper(),
            de.get("body", "json"),
            de.get("records"),
        )
    if key_from == "id" and detail is None:
        raise r.fail(f"{where}.key_from", "id needs a detail: request", "add detail: or use record")
    recurse = None
    if data.get("recurse") is not None:
        rc = r.mapping(data["recurse"], f"{where}.recurse")
        recurse = Recurse(r.text(rc, "field", f"{where}.recurse"), r.text(rc, "param", where))
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
        cursor=cursor,
        pagination=_pagination(r, pag, f"{where}.pagination"),
        required=tuple(required),
        fields=fields,
        for_each=for_each,
        detail=detail,
        recurse=recurse,
        land=land,
        description=str(data.get("description", "")),
    )


def parse_api(subsystem: Subsystem) -> ApiSpec:
    """The typed API description of one subsystem file (which must have an `api:` section)."""
    r = _Reader(subsystem.source_file)
    api = r.mapping(subsystem.api, "api")
    r.known(api, API_FIELDS, "api")
    connection = r.text(api, "connection", "api")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", connection):
        raise r.fail("api.connection", f"'{connection}'", "use a snake_case Airflow conn id")
    defaults = r.mapping(api.get("defaults"), "api.defaults")
    r.known(defaults, {"method", "body", "params", "pagination", "cursor"}, "api.defaults")
    resources_raw = r.mapping(api.get("resources"), "api.resources")
    if not resources_raw:
        raise r.fail("api.resources", "no resources", "describe at least one endpoint")
    resources = {n: _resource(r, n, d, defaults) for n, d in resources_raw.items()}
    for res in resources.values():
        if res.for_each and res.for_each.resource not in resources:
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
