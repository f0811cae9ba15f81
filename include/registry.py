"""Table 1 as data (Articles 5-6): one registry, one loader, one validator.

Each `connectors/subsystems/<id>.yml` is one row of Table 1 plus its API description (`api:`)
and its field declarations; `connectors/departments.yml` names every department, its head,
its vice-president and its quality administrators. Adding or re-assigning a subsystem is a
change of these files, never of code.

Every file is validated in one pass by the pydantic models below (the Table 1 part, the
`api:` part and the departments file alike); a bad file is refused with one line naming the
file, the field, the problem and the fix, in Chinese and English. The validated data is then
turned into the small frozen dataclasses the rest of the platform reads (`Subsystem`,
`Department`, and `connectors.spec.ApiSpec` for the HTTP client).

`registry()` is the registry of this checkout; `XIAOBEN_SUBSYSTEMS_DIR` and
`XIAOBEN_DEPARTMENTS_FILE` point it elsewhere (tests, trials). `load_subsystems()` loads each
file on its own, so one broken file does not hide the others (the DAG factory uses it).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from connectors import auth as auth_methods
from connectors import paginators
from connectors import spec as api
from include import settings, yamlfile
from include.rules.codes import names as code_set_names
from include.rules.dates import is_date_format

RESERVED_TASK = "submission"  # dags/collect.py's 报送及时性 task, after the resources' tasks
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = {"functional": 1, "teaching_support": 1, "school": 2}  # kind -> quality administrators
SCHOOL_LINES = ("党", "政")
FREQUENCIES = ("hourly", "daily", "weekly", "thrice_monthly", "monthly", "termly", "yearly")
GROUP_ALL, GROUP_SCHOOLS = "全部部门", "各院系"
PII_CLASSES = ("id_number", "phone", "bank_card", "address", "name")
# A field's staging conversion (the macros of dbt_project/macros/fields.sql; include/warehouse/
# staging.py renders them): code, text, int, number(<scale>), flag, flag(<true>,<false>),
# amount(fen|yuan|wan_yuan), timestamp, date, json, text_array. A timestamp or date is read in
# the field's own `format:` (or its resource's cursor format): include/rules/dates.py.
FIELD_TYPE = re.compile(
    r"^(code|text|int|json|text_array|timestamp|date|number\(\d\)|flag(\([^,()]+,[^,()]+\))?"
    r"|amount\((fen|yuan|wan_yuan)\))$"
)
DATED_TYPES = ("timestamp", "date")
# Roles of departments.yml (`roles:`): the rules give each to one department.
ROLES = {"quality_office": "质管办, Articles 10 and 11"}


class RegistryError(ValueError):
    """A registry file is wrong. The message is one line: file, field, problem and fix."""

    def __init__(self, path: Path, fieldname: str, problem: str, fix: str):
        try:
            shown = path.resolve().relative_to(settings.ROOT)
        except ValueError:
            shown = path
        self.path, self.field = path, fieldname
        super().__init__(f"{shown}: {fieldname}: {problem} — {fix}")


SpecError = RegistryError  # the `api:` part is validated by the same code


# -- runtime shapes (what the platform reads) ---------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    line: str | None = None  # 党 / 政 for a school's two quality administrators
    user: str | None = None  # Airflow user id (HITL `assigned_users`); default: the mailbox name
    dingtalk: str | None = None  # DingTalk userid for work notifications, when the person has one

    @property
    def login(self) -> str:
        return self.user or self.email.split("@", 1)[0]


@dataclass(frozen=True)
class VicePresident:
    id: str
    name: str
    title: str
    email: str
    user: str | None = None
    dingtalk: str | None = None

    @property
    def login(self) -> str:
        return self.user or self.email.split("@", 1)[0]


@dataclass(frozen=True)
class Department:
    name: str
    full_name: str
    kind: str
    head: Person
    vice_president: VicePresident
    quality_administrators: tuple[Person, ...]
    code: str | None = None  # the unit code (部门代码) the campus systems use


@dataclass(frozen=True)
class Collector:
    role: str
    department: str | None = None
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Plan:
    frequency: str
    deadline_hours: int
    note: str = ""


@dataclass(frozen=True)
class Subsystem:
    id: str
    name_zh: str
    name_en: str
    content: str
    description: str
    collectors: tuple[Collector, ...]
    organising_departments: tuple[str, ...]
    managing_departments: tuple[str, ...]
    cron: str
    timezone: str
    plan: Plan
    source_file: Path
    api: api.ApiSpec | None = None
    full_cron: str | None = None  # the periodic full re-read (schedule.full_cron)

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.id}"

    @property
    def owner(self) -> str:
        """Airflow owner: the managing department(s), who set the schedule (Article 7)."""
        return ",".join(self.managing_departments)


@dataclass
class Registry:
    vice_presidents: dict[str, VicePresident]
    departments: dict[str, Department]
    subsystems: dict[str, Subsystem] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # role → department (departments.yml)

    @property
    def quality_office(self) -> str:
        """质管办: integrates the school's data, releases holds, hears unowned warnings."""
        return self.roles["quality_office"]

    def responsible_people(self, subsystem_id: str) -> list[Person]:
        """Collectors with a mailbox and the quality administrators of the departments involved."""
        s = self.subsystems[subsystem_id]
        people = [Person(c.name, c.email) for c in s.collectors if c.email and c.name]
        for dept in dict.fromkeys(s.managing_departments + s.organising_departments):
            people.extend(self.departments[dept].quality_administrators)
        return list({p.email: p for p in people}.values())


# -- the validator: pydantic models of the files, errors as one bilingual line -----------------


def fail(problem: str, fix: str, at: str = "") -> PydanticCustomError:
    """A validation error with its own wording; `at` extends the field path (e.g. `.type`)."""
    return PydanticCustomError(
        "registry", "{problem} — {fix}", {"problem": problem, "fix": fix, "at": at}
    )


def _hint(value: str, allowed, what_zh: str, what_en: str) -> str:
    close = difflib.get_close_matches(str(value), list(allowed), 1)
    if close:
        return f"是否应为 '{close[0]}'？(did you mean '{close[0]}'?)"
    return f"{what_zh} ({what_en})"


class _Model(BaseModel):
    """Unknown keys are refused with a did-you-mean (a typo must never be silently ignored)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, arbitrary_types_allowed=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise fail(
                "必须是映射 (must be a mapping)", "在其下写 `键: 值` (write `key: value` fields)"
            )
        allowed = {f.alias or n for n, f in cls.model_fields.items()}
        for key in data:
            if key not in allowed:
                hint = _hint(key, allowed, "见 connectors/README.md", "see connectors/README.md")
                raise fail("未知字段 (unknown field)", hint, at=f".{key}")
        return data


Text = Annotated[str, Field(min_length=1)]


def _email(value: str | None) -> str | None:
    if value is not None and not EMAIL_PATTERN.match(value):
        raise fail(
            f"'{value}' 不是电子邮件地址 (is not an e-mail address)",
            "写成 name@domain (write it as name@domain)",
        )
    return value


def _date_format(value: str | None) -> str | None:
    if value is not None and not is_date_format(value):
        raise fail(
            f"'{value}' 不是日期格式 (is not a date format)",
            "用接口文档的写法 (use the vendor notation: yyyy-MM-dd HH:mm:ss, yyyyMMdd …), "
            "iso 或 epoch_ms",
        )
    return value


def _duration(value: Any):
    if value is None:
        return None
    try:
        return api.parse_duration(value)
    except ValueError:
        raise fail(
            f"'{value}' 不是时长 (is not a duration)", "写成 31d、12h 或 30m (write e.g. 31d)"
        ) from None


# ---- departments.yml


class PersonIn(_Model):
    name: Text
    email: Text
    line: Literal["党", "政"] | None = None
    user: str | None = Field(None, pattern=r"^[a-z][a-z0-9._]*$")  # Airflow user id
    dingtalk: str | None = None  # DingTalk userid (work notifications)

    _check_email = field_validator("email")(classmethod(lambda cls, v: _email(v)))


class VicePresidentIn(PersonIn):
    id: Text
    title: Text


class DepartmentIn(_Model):
    name: Text
    code: Any = None
    full_name: str | None = None
    kind: Literal["functional", "teaching_support", "school"]
    head: PersonIn
    vice_president: Text
    quality_administrators: list[PersonIn] = []

    @field_validator("code")
    @classmethod
    def _code(cls, v):
        if v is not None and (not isinstance(v, str) or not v.isdigit()):
            raise fail(
                f"'{v}' 不是数字串 (is not a digit string)",
                '给单位代码加引号 (quote it: code: "203")',
            )
        return v

    @model_validator(mode="after")
    def _quality_administrators(self):
        qas = self.quality_administrators
        if self.kind == "school":
            lines = sorted(q.line or "" for q in qas)
            if len(qas) != 2 or lines != sorted(SCHOOL_LINES):
                raise fail(
                    f"院系需要党、政两条线各一名质量管理员 (a school (院系) needs two quality "
                    f"administrators, one per line (党, 政); found {len(qas)} with lines {lines})",
                    "添加 `line: 党` 与 `line: 政` 各一人 (add one with `line: 党` and one with "
                    "`line: 政`)",
                    at=".quality_administrators",
                )
        elif len(qas) != KINDS[self.kind]:
            raise fail(
                f"{self.kind} 部门需要恰好一名质量管理员 (a {self.kind} department needs exactly "
                f"one quality administrator, found {len(qas)})",
                "列出一人 {name, email} (list one {name, email})",
                at=".quality_administrators",
            )
        return self


class DepartmentsFile(_Model):
    vice_presidents: list[VicePresidentIn] = []
    roles: dict[str, Any] | None = None  # role → department; every role of ROLES, exactly once
    departments: list[DepartmentIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self):
        vps = [vp.id for vp in self.vice_presidents]
        seen: set[str] = set()
        for d in self.departments:
            where = f"departments[{d.name}]"
            if d.name in seen:
                raise fail(
                    "重复列出 (listed twice)", "每个部门只保留一项 (keep one entry)", at=where
                )
            seen.add(d.name)
            if d.vice_president not in vps:
                raise fail(
                    f"未知的分管副院长 (unknown vice-president '{d.vice_president}')",
                    f"用 vice_presidents 中的 id (use one of {', '.join(vps)})",
                    at=f"{where}.vice_president",
                )
        self._check_roles(seen)
        return self

    def _check_roles(self, departments: set[str]) -> None:
        """`roles:` gives each role of ROLES to one listed department (quality_office: 质管办)."""
        roles, known = self.roles or {}, ", ".join(ROLES)
        for role in roles:
            if role not in ROLES:
                raise fail(
                    "未知角色 (unknown role)",
                    _hint(role, ROLES, f"可用角色 {known}", f"use one of {known}"),
                    at=f"roles.{role}",
                )
        for role, meaning in ROLES.items():
            dept = roles.get(role)
            if dept in departments:
                continue
            problem = (
                f"'{dept}' 不是已列出的部门 ('{dept}' is not a department listed here)"
                if dept
                else f"没有部门担任此角色 (no department has the role {role})"
            )
            raise fail(
                problem,
                f"写 `roles: {{{role}: <部门名>}}` (write `roles: {{{role}: <department name>}}`;"
                f" {meaning})",
                at=f"roles.{role}",
            )


# ---- the api: part of a subsystem file


class MatchIn(_Model):
    status: int | list[int] = []
    path: str | None = None
    in_: Any = Field(None, alias="in")
    equals: Any = None
    exists: bool = False

    @model_validator(mode="after")
    def _matches_something(self):
        if self.path is None and not self.status:
            raise fail(
                "什么也不匹配 (matches nothing)",
                "给出 status: 和/或 path: 与 in: (give status: and/or path: with in:)",
            )
        if self.path is not None and self.in_ is None and self.equals is None and not self.exists:
            raise fail(
                "只有 path 没有值 (a path without values)",
                "添加 in: [...] 或 exists: true (add in: or exists: true)",
            )
        return self

    def build(self) -> api.Match:
        status = self.status if isinstance(self.status, list) else [self.status]
        values = (
            self.in_ if self.in_ is not None else ([self.equals] if self.equals is not None else [])
        )
        values = values if isinstance(values, list) else [values]
        return api.Match(tuple(status), self.path, tuple(api._text(v) for v in values), self.exists)


class RuleIn(MatchIn):
    action: Literal["refresh", "retry", "fail", "not_submitted"]
    wait: float | str | None = None

    def build(self) -> api.Rule:
        return api.Rule(super().build(), self.action, self.wait)


class ResponsesIn(_Model):
    success: MatchIn | None = None
    message_path: str | None = None
    rules: list[RuleIn] = []

    def build(self) -> api.Responses:
        success = self.success.build() if self.success else None
        return api.Responses(success, self.message_path, tuple(r.build() for r in self.rules))


class LoginIn(_Model):
    method: Literal["GET", "POST"] = "POST"
    path: str | None = None  # required by the types that log in (connectors/auth.py)
    json_: dict | None = Field(None, alias="json")
    form: dict | None = None
    params: dict | None = None


class SendIn(_Model):
    header: str | None = None
    query: str | None = None
    value: str = "{token}"


class SignatureIn(_Model):
    param: str | None = None
    value: str | None = None
    algorithm: str = "sha1"


def _rules_of(check, data: Any) -> None:
    """A type's own rules (connectors/auth.py, paginators.py) as this validator's error."""
    try:
        check(data)
    except paginators.ConfigProblem as p:
        raise fail(p.problem, p.fix, at=p.key) from None


class AuthIn(_Model):
    """`auth:` keys; what each type needs is its class's `check` (connectors/auth.py)."""

    type: str = auth_methods.NoAuth.type
    login: LoginIn | None = None
    success: MatchIn | None = None
    token_path: str | None = None
    send: SendIn | None = None
    params: dict = {}
    signature: SignatureIn | None = None

    @model_validator(mode="after")
    def _type_rules(self):
        def mapping(m: BaseModel | None) -> dict:
            return m.model_dump(by_alias=True, exclude_none=True) if m else {}

        mappings = {k: mapping(getattr(self, k)) for k in ("login", "send", "signature")}
        _rules_of(auth_methods.check, {**self.model_dump(), **mappings})
        return self

    def build(self) -> api.Auth:
        send, sig = self.send or SendIn(), self.signature or SignatureIn()
        return api.Auth(
            type=self.type,
            login=self.login.model_dump(by_alias=True, exclude_none=True) if self.login else None,
            success=self.success.build() if self.success else None,
            token_path=self.token_path,
            send_header=send.header,
            send_query=send.query,
            send_value=send.value,
            params=dict(self.params),
            signature_param=sig.param,
            signature_algorithm=sig.algorithm,
            signature_value=sig.value or "",
        )


class PaginationIn(_Model):
    """`pagination:` keys; what each type needs is its class's `check` (connectors/
    paginators.py)."""

    type: str = paginators.Paginator.type
    records: str | None = None
    total: str | None = None
    pages: str | None = None
    has_more: str | None = None
    next_cursor: str | None = None
    next: str | None = None
    page_param: str | None = None
    size_param: str | None = None
    size: Annotated[int, Field(gt=0)] | None = None
    start: Any = None
    offset_param: str | None = None
    cursor_param: str | None = None
    verify_total: bool = True
    overlap: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _type_rules(self):
        _rules_of(paginators.check, self.model_dump())
        return self

    def build(self) -> api.Pagination:
        return api.Pagination(**self.model_dump())


class CursorIn(_Model):
    field: Text
    format: Text
    param_format: str | None = None
    since_param: Text
    until_param: str | None = None
    max_span: Any = None
    lookback: Any = None
    initial: str = "1970-01-01"
    until_margin: Any = None
    until_inclusive: bool = False

    _formats = field_validator("format", "param_format")(
        classmethod(lambda cls, v: _date_format(v))
    )

    @field_validator("max_span", "lookback", "until_margin")
    @classmethod
    def _durations(cls, v):
        _duration(v)  # refuses what is not a duration; the text is kept, parsed in build()
        return v

    @field_validator("initial", mode="before")
    @classmethod
    def _initial(cls, v):
        v = str(v)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|-\d+[dh]", v):
            raise fail(f"'{v}'", "写日期或相对天数 (write a date (2025-09-01) or -365d)")
        return v

    def build(self) -> api.Cursor:
        from datetime import timedelta

        return api.Cursor(
            field=self.field,
            format=self.format,
            param_format=self.param_format or self.format,
            since_param=self.since_param,
            until_param=self.until_param,
            max_span=_duration(self.max_span),
            lookback=_duration(self.lookback) or timedelta(0),
            initial=self.initial,
            until_margin=_duration(self.until_margin) or timedelta(days=1),
            until_inclusive=self.until_inclusive,
        )


class FieldIn(_Model):
    """One source field: how it is checked at landing and what it becomes in staging."""

    column: str | None = None  # English snake_case column name in staging
    type: str | None = None  # staging conversion, FIELD_TYPE
    format: str | None = None
    code_set: str | None = None
    description: str | None = None  # Chinese description (dbt, PostgreSQL comments)
    pii: Literal[PII_CLASSES] | None = None
    tests: list[str] = []

    @field_validator("format")
    @classmethod
    def _format(cls, v):
        return v if v in api.ID_FORMATS else _date_format(v)

    @field_validator("code_set")
    @classmethod
    def _code_set(cls, v):
        if v is None:
            return v
        names = code_set_names()
        if v not in names:
            raise fail(
                f"没有代码集 (no code set '{v}')",
                _hint(v, names, "用 dbt_project/seeds/codes/ 中的代码集",
                      "use a code set of dbt_project/seeds/codes/"),
            )  # fmt: skip
        return v

    @field_validator("type")
    @classmethod
    def _type(cls, v):
        if v is not None and not FIELD_TYPE.match(v):
            raise fail(
                f"未知字段类型 (unknown field type '{v}')",
                "用 code、text、int、number(2)、flag、amount(fen)、timestamp、date、json 或 "
                "text_array (see include/warehouse/staging.py)",
            )
        return v

    @field_validator("column")
    @classmethod
    def _column(cls, v):
        if v is not None and not ID_PATTERN.match(v):
            raise fail(
                f"'{v}' 不是 snake_case (is not snake_case)", "用 a-z、0-9 和 _ (use a-z0-9_)"
            )
        return v


class ForEachIn(_Model):
    resource: str | None = None
    field: str | None = None
    param: Text
    batch: Annotated[int, Field(gt=0)] | None = None
    include: list = []
    values: Annotated[list, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _source(self):
        if self.values is not None and (self.resource or self.field):
            raise fail(
                "同时给了 values 与 resource (both values and resource)",
                "保留 values: 或 resource: 加 field: (keep values: or resource: + field:)",
            )
        if self.values is None and not (self.resource and self.field):
            raise fail(
                "没有说明参数值从哪里来 (says neither where the values come from)",
                "写 resource 与 field，或固定的 values (give resource and field, or values)",
            )
        return self


class ConditionIn(_Model):
    """One condition of `detail.final`: the landed record's value at `path`."""

    path: Text
    in_: list | None = Field(None, alias="in")
    equals: Any = None
    exists: bool = False

    @model_validator(mode="after")
    def _one_test(self):
        given = [self.in_ is not None, self.equals is not None, self.exists]
        if sum(given) != 1:
            raise fail(
                "需要恰好一个 in、equals 或 exists: true (needs exactly one of in, equals, "
                "exists: true)",
                "例如 {path: status, in: [COMPLETED, TERMINATED]} 或 {path: finish_time, "
                "exists: true}",
            )
        return self

    def build(self) -> api.Condition:
        values = self.in_ if self.in_ is not None else [self.equals]
        return api.Condition(
            self.path, () if self.exists else tuple(api._text(v) for v in values), self.exists
        )


class DetailIn(_Model):
    path: Text
    id_param: Text
    method: Literal["GET", "POST"] = "POST"
    body: Literal["query", "json", "form"] = "json"
    records: str | None = None
    final: Annotated[list[ConditionIn], Field(min_length=1)] | None = None

    def build(self) -> api.Detail:
        final = tuple(c.build() for c in self.final or ())
        return api.Detail(self.path, self.id_param, self.method, self.body, self.records, final)


class RecurseIn(_Model):
    field: Text
    param: Text


class DerivedColumnIn(_Model):
    """A column a hand-written staging model computes (documented with the generated ones)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: Text
    source_field: str | None = None  # the source field it is computed from, if one
    tests: list[str] = []


class ResourceIn(_Model):
    description: str = ""
    path: Text
    method: Literal["GET", "POST"] = "GET"
    body: Literal["query", "json", "form"]
    params: dict = {}
    primary_key: list[Text] | None = None
    key_from: Literal["record", "id"] = "record"
    cursor: CursorIn | None = None
    pagination: PaginationIn = PaginationIn()
    required: list[str] = []
    fields: dict[str, FieldIn] = {}
    for_each: ForEachIn | None = None
    detail: DetailIn | None = None
    recurse: RecurseIn | None = None
    land: bool = True
    auth: AuthIn | None = None
    responses: ResponsesIn | None = None
    derived_columns: list[DerivedColumnIn] = []

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data):
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("method"), str):
                data["method"] = data["method"].upper()
            data.setdefault("body", "query" if data.get("method", "GET") == "GET" else "json")
            if isinstance(data.get("primary_key"), str):
                data["primary_key"] = [data["primary_key"]]
        return data

    @model_validator(mode="after")
    def _keys(self):
        if self.land and not self.primary_key:
            raise fail(
                "缺少主键 (missing)",
                "列出主键字段 (list the key field(s), e.g. [xh])",
                at=".primary_key",
            )
        if self.key_from == "id" and self.detail is None:
            raise fail(
                "id 需要 detail: 请求 (id needs a detail: request)",
                "添加 detail: 或用 record (add detail: or use record)",
                at=".key_from",
            )
        for name, f in self.fields.items():
            if f.type in DATED_TYPES and self.date_format(name) in (None, "gb11643"):
                raise fail(
                    f"{f.type} 字段没有日期格式 (a {f.type} field without a date format)",
                    '写上接口的格式 (add the vendor\'s format, e.g. format: "yyyy-MM-dd HH:mm:ss",'
                    " yyyyMMdd, iso or epoch_ms)",
                    at=f".fields.{name}",
                )
        return self

    def date_format(self, name: str) -> str | None:
        """The format a field is read in: its own `format:`, else its resource's cursor's."""
        own = self.fields[name].format if name in self.fields else None
        if own is None and self.cursor is not None and self.cursor.field == name:
            return self.cursor.format
        return own

    def build(self, name: str) -> api.Resource:
        fe = self.for_each
        return api.Resource(
            name=name,
            path=self.path,
            method=self.method,
            body=self.body,
            params=dict(self.params),
            primary_key=tuple(self.primary_key or ()),
            key_from=self.key_from,
            cursor=self.cursor.build() if self.cursor else None,
            pagination=self.pagination.build(),
            required=tuple(self.required),
            fields={
                n: api.FieldHint(
                    f.code_set, f.format, f.column, f.type, f.description, f.pii, tuple(f.tests)
                )
                for n, f in self.fields.items()
            },
            for_each=api.ForEach(
                fe.resource, fe.field, fe.param, fe.batch, tuple(fe.include), tuple(fe.values or ())
            )
            if fe
            else None,
            detail=self.detail.build() if self.detail else None,
            recurse=api.Recurse(self.recurse.field, self.recurse.param) if self.recurse else None,
            land=self.land,
            description=self.description,
            auth=self.auth.build() if self.auth else None,
            responses=self.responses.build() if self.responses else None,
            derived_columns=tuple(c.model_dump() for c in self.derived_columns),
        )


class DefaultsIn(_Model):
    method: Literal["GET", "POST", "get", "post"] | None = None
    body: Literal["query", "json", "form"] | None = None
    params: dict = {}
    pagination: dict = {}
    cursor: dict = {}

    @field_validator("pagination")
    @classmethod
    def _pagination_type(cls, v):
        if "type" in v:
            _rules_of(paginators.by_type, v["type"])
        return v


class ApiIn(_Model):
    connection: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    timeout: Annotated[float, Field(gt=0)] = 30
    rate_limit: Annotated[float, Field(gt=0)] = 20
    concurrency: Annotated[int, Field(ge=1)] = 1
    max_attempts: Annotated[int, Field(ge=1)] = 8
    auth: AuthIn = AuthIn()
    responses: ResponsesIn = ResponsesIn()
    defaults: DefaultsIn = DefaultsIn()
    resources: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ResourceIn] = Field(
        min_length=1
    )

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        """Each resource inherits `defaults:` (method, body, params, pagination, cursor)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        defaults = data.get("defaults") or {}
        resources = data.get("resources")
        if not isinstance(defaults, dict) or not isinstance(resources, dict):
            return data
        merged = {}
        for name, res in resources.items():
            if not isinstance(res, dict):
                merged[name] = res
                continue
            res = dict(res)
            for key in ("method", "body"):
                if key not in res and defaults.get(key) is not None:
                    res[key] = defaults[key]
            for key in ("params", "pagination"):
                if isinstance(defaults.get(key), dict) and isinstance(res.get(key, {}), dict):
                    res[key] = {**defaults[key], **(res.get(key) or {})}
            if res.get("cursor") is not None and isinstance(defaults.get("cursor"), dict):
                if isinstance(res["cursor"], dict):
                    res["cursor"] = {**defaults["cursor"], **res["cursor"]}
            merged[name] = res
        data["resources"] = merged
        return data

    @model_validator(mode="after")
    def _references(self):
        if RESERVED_TASK in self.resources:
            raise fail(
                f"资源名 {RESERVED_TASK} 已被采集 DAG 的报送及时性任务占用 "
                f"(the collection DAG's own task is named '{RESERVED_TASK}')",
                "给资源换个名字 (rename the resource)",
                at=f".resources.{RESERVED_TASK}",
            )
        for name, res in self.resources.items():
            fe = res.for_each
            if fe and fe.resource is not None and fe.resource not in self.resources:
                raise fail(
                    f"未知资源 (unknown resource '{fe.resource}')",
                    f"用 (use one of) {', '.join(self.resources)}",
                    at=f".resources.{name}.for_each.resource",
                )
        return self

    def build(self, sid: str, path: Path) -> api.ApiSpec:
        return api.ApiSpec(
            subsystem=sid,
            source_file=path,
            connection=self.connection,
            timeout=self.timeout,
            rate_limit=self.rate_limit,
            concurrency=self.concurrency,
            max_attempts=self.max_attempts,
            auth=self.auth.build(),
            responses=self.responses.build(),
            resources={n: r.build(n) for n, r in self.resources.items()},
        )


# ---- the Table 1 part of a subsystem file


class CollectorIn(_Model):
    role: Text
    department: str | None = None
    name: str | None = None
    email: str | None = None

    _check_email = field_validator("email")(classmethod(lambda cls, v: _email(v)))

    @field_validator("department")
    @classmethod
    def _department(cls, v, info: ValidationInfo):
        departments = (info.context or {}).get("departments", {})
        if v is not None and v not in departments:
            raise fail(
                f"未知部门 (unknown department '{v}')",
                _hint(
                    v,
                    departments,
                    "先加到 connectors/departments.yml",
                    "add it to connectors/departments.yml",
                ),
            )
        return v


class ScheduleIn(_Model):
    cron: Text
    timezone: str = settings.TIMEZONE
    # the periodic full re-read (mode full): catches changes older than a cursor's lookback and
    # changes to records an incremental pull treats as final (`detail.final`)
    full_cron: str | None = None

    @field_validator("cron", "full_cron")
    @classmethod
    def _cron(cls, v):
        if v is None:
            return v
        if len(v.split()) != 5 or not croniter.is_valid(v):
            raise fail(
                f"'{v}' 不是合法的 5 段 cron (is not a valid 5-field cron)",
                "写成 分 时 日 月 周 (write minute hour day month weekday, e.g. '30 1 * * *')",
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise fail(
                f"未知时区 (unknown time zone '{v}')",
                "用 IANA 名称 (use an IANA name such as Asia/Shanghai)",
            ) from None
        return v


class PlanIn(_Model):
    frequency: Literal[FREQUENCIES]
    deadline_hours: Annotated[int, Field(gt=0, strict=True)]
    note: str = ""


def _departments(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    departments = (info.context or {}).get("departments", {})
    if value in (None, [], ""):
        raise fail("缺少 (missing)", f"添加 (add) `{info.field_name}: [<部门名>]` (Table 1)")
    names: list[str] = []
    for name in [value] if isinstance(value, str) else value:
        if name == GROUP_ALL:
            names.extend(departments)
        elif name == GROUP_SCHOOLS:
            names.extend(n for n, d in departments.items() if d.kind == "school")
        elif name in departments:
            names.append(name)
        else:
            raise fail(
                f"未知部门 (unknown department '{name}')",
                _hint(name, [*departments, GROUP_ALL, GROUP_SCHOOLS],
                      "先加到 connectors/departments.yml", "add it to connectors/departments.yml"),
            )  # fmt: skip
    return tuple(dict.fromkeys(names))


class SubsystemFile(_Model):
    id: Text
    name_zh: Text
    name_en: Text
    content: Text
    description: Text
    collectors: list[CollectorIn] = Field(min_length=1)
    organising_departments: Any = None
    managing_departments: Any = None
    schedule: ScheduleIn
    plan: PlanIn
    api: ApiIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _required_departments(cls, data):
        if isinstance(data, dict):  # validators of absent fields do not run: make them present
            data = {"organising_departments": None, "managing_departments": None, **data}
        return data

    _depts = field_validator("organising_departments", "managing_departments")(
        classmethod(lambda cls, v, info: _departments(v, info))
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v, info: ValidationInfo):
        stem = (info.context or {}).get("stem")
        if not ID_PATTERN.match(v):
            raise fail(
                f"'{v}' 不是 snake_case (is not snake_case)",
                "用 a-z、0-9 和 _ (use a-z, 0-9 and _)",
            )
        if stem and v != stem:
            raise fail(
                f"'{v}' 与文件名不一致 ('{v}' differs from the file name)",
                f"文件名改为 {v}.yml 或写 id: {stem} (name the file {v}.yml or set id: {stem})",
            )
        return v


# ---- ValidationError → one line


def _where(loc: tuple, data: Any) -> str:
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) \
                and isinstance(node[item], dict) else None  # fmt: skip
            parts.append(f"[{name or item}]")
        else:
            parts.append(("." if parts else "") + str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return "".join(parts) or "(top)"


def _one_line(path: Path, exc: ValidationError, data: Any) -> RegistryError:
    err = exc.errors()[0]
    where = _where(tuple(err["loc"]), data)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    last = str(err["loc"][-1]) if err["loc"] else "?"
    if kind == "registry":
        where = (where if where != "(top)" else "") + ctx.get("at", "")
        where = where.lstrip(".") or "(top)"
        return RegistryError(path, where, ctx["problem"], ctx["fix"])
    if kind == "missing":
        return RegistryError(path, where, "缺少 (missing or empty)", f"添加 (add) `{last}:`")
    if kind in ("string_too_short", "too_short"):
        return RegistryError(
            path, where, "为空 (missing or empty)", f"给 `{last}:` 写上值 (give it a value)"
        )
    if kind == "literal_error":
        return RegistryError(
            path, where, f"未知取值 (unknown value '{value}')",
            f"用其中之一 (use one of {ctx.get('expected')})",
        )  # fmt: skip
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return RegistryError(
            path, where, "必须是映射 (must be a mapping)", "写 `键: 值` (write `key: value` fields)"
        )
    if kind == "list_type":
        return RegistryError(
            path, where, "必须是列表 (must be a list)", "写成 [a, b] (e.g. [xh, xm])"
        )
    if kind.startswith(("greater_than", "int_", "float_", "less_than")):
        return RegistryError(
            path,
            where,
            f"'{value}' 不是合法的数 ({err['msg']})",
            "写正数 (give a positive number, e.g. 30)",
        )
    if kind == "string_pattern_mismatch":
        return RegistryError(
            path,
            where,
            f"'{value}' 不是 snake_case (is not snake_case)",
            "用 a-z、0-9 和 _ (use a-z0-9_)",
        )
    return RegistryError(
        path, where, f"{err['msg']}", "见 connectors/README.md (see connectors/README.md)"
    )


# -- loading ------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict:
    try:
        data = yamlfile.load(path.read_text(encoding="utf-8"), path.name)
    except yamlfile.DuplicateKeyError as exc:
        raise RegistryError(
            path,
            f"line {exc.line}",
            f"键 `{exc.key}` 重复，第 {exc.first_line} 行已有 (duplicate key '{exc.key}', "
            f"first at line {exc.first_line})",
            "同一层只保留一个：合并两处后删去另一个 (keep one: merge the two, delete the other)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise RegistryError(
            path,
            where,
            "不是合法的 YAML (not valid YAML)",
            "修正该处语法 (fix the YAML syntax there)",
        ) from exc
    if not isinstance(data, dict):
        raise RegistryError(
            path,
            "(top)",
            "必须是映射 (must be a mapping)",
            "写 `键: 值` (write `key: value` fields)",
        )
    return data


def _validate(model: type[BaseModel], path: Path, data: dict, **context) -> Any:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _one_line(path, exc, data) from None


def load_departments(
    path: Path,
) -> tuple[dict[str, VicePresident], dict[str, Department], dict[str, str]]:
    """Vice-presidents and departments by id/name, and the roles (`roles:`) by role id."""
    f: DepartmentsFile = _validate(DepartmentsFile, path, _read_yaml(path))
    vps = {
        v.id: VicePresident(v.id, v.name, v.title, v.email, v.user, v.dingtalk)
        for v in f.vice_presidents
    }
    person = lambda p: Person(p.name, p.email, p.line, p.user, p.dingtalk)  # noqa: E731
    departments = {
        d.name: Department(
            d.name, d.full_name or d.name, d.kind, person(d.head),
            vps[d.vice_president],
            tuple(person(q) for q in d.quality_administrators),
            d.code,
        )
        for d in f.departments
    }  # fmt: skip
    return vps, departments, dict(f.roles)


def load_subsystem(path: Path, departments: dict[str, Department]) -> Subsystem:
    f: SubsystemFile = _validate(
        SubsystemFile, path, _read_yaml(path), departments=departments, stem=path.stem
    )
    return Subsystem(
        id=f.id,
        name_zh=f.name_zh.strip(),
        name_en=f.name_en.strip(),
        content=f.content.strip(),
        description=f.description.strip(),
        collectors=tuple(Collector(c.role, c.department, c.name, c.email) for c in f.collectors),
        organising_departments=f.organising_departments,
        managing_departments=f.managing_departments,
        cron=f.schedule.cron,
        timezone=f.schedule.timezone,
        plan=Plan(f.plan.frequency, f.plan.deadline_hours, str(f.plan.note)),
        source_file=path,
        api=f.api.build(f.id, path) if f.api else None,
        full_cron=f.schedule.full_cron,
    )


def _stray_files(subsystems_dir: Path) -> list[RegistryError]:
    return [
        RegistryError(
            stray,
            "(file)",
            "子系统文件以 .yml 结尾，此文件不会被读取 "
            "(subsystem files end in .yml and this one is not read)",
            f"改名为 (rename it to) {stray.stem}.yml",
        )
        for stray in sorted(subsystems_dir.glob("*.yaml"))
    ]  # fmt: skip


def load_subsystems(
    subsystems_dir: Path | None = None, departments_file: Path | None = None
) -> tuple[Registry, list[RegistryError]]:
    """Every valid subsystem, and one error per broken file: a broken file breaks only itself.

    A broken departments file breaks everything (every subsystem names departments): it raises.
    """
    subsystems_dir = subsystems_dir or subsystems_path()
    vps, departments, roles = load_departments(departments_file or departments_path())
    registry = Registry(vps, departments, roles=roles)
    errors = _stray_files(subsystems_dir)
    for path in sorted(subsystems_dir.glob("*.yml")):
        try:
            s = load_subsystem(path, departments)
        except RegistryError as exc:
            errors.append(exc)
            continue
        registry.subsystems[s.id] = s
    return registry, errors


def load_registry(
    subsystems_dir: Path | None = None, departments_file: Path | None = None
) -> Registry:
    """The whole registry, or RegistryError for the first broken file."""
    registry, errors = load_subsystems(subsystems_dir, departments_file)
    if errors:
        raise errors[0]
    return registry


def subsystems_path() -> Path:
    """The folder of subsystem files; XIAOBEN_SUBSYSTEMS_DIR points elsewhere (tests, trials)."""
    return Path(os.environ.get("XIAOBEN_SUBSYSTEMS_DIR") or settings.SUBSYSTEMS_DIR)


def departments_path() -> Path:
    return Path(os.environ.get("XIAOBEN_DEPARTMENTS_FILE") or settings.DEPARTMENTS_FILE)


@cache
def _loaded(subsystems_dir: str, departments_file: str) -> tuple[Registry, tuple]:
    registry, errors = load_subsystems(Path(subsystems_dir), Path(departments_file))
    return registry, tuple(errors)


def registry_and_errors() -> tuple[Registry, tuple[RegistryError, ...]]:
    """The valid part of the registry and the broken files (the DAG factory's view)."""
    return _loaded(str(subsystems_path().resolve()), str(departments_path().resolve()))


def registry() -> Registry:
    """The valid part of the registry of this checkout (or of XIAOBEN_SUBSYSTEMS_DIR), loaded
    once per process. A broken subsystem file is left out (and reported by the DAG factory and
    `./run registry check`), so it never takes the other subsystems down.
    """
    return registry_and_errors()[0]


def api_specs() -> dict[str, api.ApiSpec]:
    """Every subsystem file that has an `api:` section, by id, in file-name order."""
    return {sid: s.api for sid, s in registry().subsystems.items() if s.api is not None}


def spec_for(subsystem_id: str) -> api.ApiSpec:
    reg, errors = registry_and_errors()
    for exc in errors:  # the subsystem's own file is broken: say why
        if exc.path.stem == subsystem_id:
            raise exc
    spec = reg.subsystems[subsystem_id].api
    if spec is None:
        raise KeyError(f"{subsystem_id}: no api: section")
    return spec
