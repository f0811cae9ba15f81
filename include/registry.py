"""Table 1 as data (Articles 5-6): the subsystem files and the departments file.

Each `connectors/subsystems/<id>.yml` is one row of Table 1; `connectors/departments.yml`
names every department, its head, its vice-president and its quality administrators.
Adding or re-assigning a subsystem is a change of these files, never of code. A bad file is
refused with one line naming the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from include import settings

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = {"functional": 1, "teaching_support": 1, "school": 2}  # kind -> quality administrators
SCHOOL_LINES = ("党", "政")
FREQUENCIES = ("hourly", "daily", "weekly", "thrice_monthly", "monthly", "termly", "yearly")
GROUP_ALL, GROUP_SCHOOLS = "全部部门", "各院系"
# Roles of departments.yml: the rules give each to one department.
ROLES = {"quality_office": "质管办, Articles 10 and 11"}
SUBSYSTEM_FIELDS = {
    "id",
    "name_zh",
    "name_en",
    "content",
    "description",
    "collectors",
    "organising_departments",
    "managing_departments",
    "schedule",
    "plan",
    "api",
}


class RegistryError(ValueError):
    """A registry file is wrong. The message is one line: file, field, problem and fix."""

    def __init__(self, path: Path, fieldname: str, problem: str, fix: str):
        try:
            shown = path.resolve().relative_to(settings.ROOT)
        except ValueError:
            shown = path
        super().__init__(f"{shown}: {fieldname}: {problem} — {fix}")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    line: str | None = None  # 党 / 政 for a school's two quality administrators


@dataclass(frozen=True)
class VicePresident:
    id: str
    name: str
    title: str
    email: str


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
    api: dict[str, Any] | None = None

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


# -- loading ------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise RegistryError(path, where, "not valid YAML", "fix the YAML syntax there") from exc
    if not isinstance(data, dict):
        raise RegistryError(path, "(top)", "must be a mapping", "write `key: value` fields")
    return data


def _text(path: Path, data: dict, key: str, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(path, prefix + key, "missing or empty", f"add `{key}:` with a value")
    return value.strip()


def _person(path: Path, data: Any, where: str) -> Person:
    if not isinstance(data, dict):
        raise RegistryError(path, where, "must be {name: …, email: …}", "give name and email")
    name, email = _text(path, data, "name", where + "."), _text(path, data, "email", where + ".")
    if not EMAIL_PATTERN.match(email):
        raise RegistryError(
            path, where + ".email", f"'{email}' is not an e-mail address", "write it as name@domain"
        )
    return Person(name, email, data.get("line"))


def load_departments(
    path: Path,
) -> tuple[dict[str, VicePresident], dict[str, Department], dict[str, str]]:
    data = _read_yaml(path)
    vps: dict[str, VicePresident] = {}
    for i, vp in enumerate(data.get("vice_presidents") or []):
        where = f"vice_presidents[{i}]"
        p = _person(path, vp, where)
        vps[_text(path, vp, "id", where + ".")] = VicePresident(
            vp["id"], p.name, _text(path, vp, "title", where + "."), p.email
        )
    departments: dict[str, Department] = {}
    for i, d in enumerate(data.get("departments") or []):
        where = f"departments[{i}]"
        if not isinstance(d, dict):
            raise RegistryError(path, where, "must be a mapping", "see the other entries")
        name = _text(path, d, "name", where + ".")
        where = f"departments[{name}]"
        if name in departments:
            raise RegistryError(path, where, "listed twice", "keep one entry per department")
        kind = d.get("kind")
        if kind not in KINDS:
            raise RegistryError(
                path, where + ".kind", f"unknown kind '{kind}'", f"use one of {', '.join(KINDS)}"
            )
        vp = d.get("vice_president")
        if vp not in vps:
            raise RegistryError(
                path,
                where + ".vice_president",
                f"unknown vice-president '{vp}'",
                f"use an id from vice_presidents: {', '.join(vps)}",
            )
        qas = tuple(
            _person(path, qa, f"{where}.quality_administrators[{j}]")
            for j, qa in enumerate(d.get("quality_administrators") or [])
        )
        _check_quality_administrators(path, where, kind, qas)
        code = d.get("code")
        if code is not None and (not isinstance(code, str) or not code.isdigit()):
            raise RegistryError(
                path,
                where + ".code",
                f"'{code}' is not a digit string",
                'quote the unit code, e.g. code: "203"',
            )
        departments[name] = Department(
            name,
            d.get("full_name", name),
            kind,
            _person(path, d.get("head"), where + ".head"),
            vps[vp],
            qas,
            code,
        )
    if not departments:
        raise RegistryError(path, "departments", "no departments", "list every department")
    return vps, departments, _roles(path, data.get("roles"), departments)


def _roles(path: Path, data: Any, departments: dict[str, Department]) -> dict[str, str]:
    """`roles:` the rules give one department each (ROLES), e.g. quality_office: 质管办."""
    if not isinstance(data, dict):
        data = {}
    for role, meaning in ROLES.items():
        dept = data.get(role)
        if dept not in departments:
            raise RegistryError(
                path,
                f"roles.{role}",
                f"'{dept}' is not a department" if dept else f"no department has the role {role}",
                f"write `roles: {{{role}: <department name>}}` ({meaning})",
            )
    for role in data:
        if role not in ROLES:
            raise RegistryError(
                path, f"roles.{role}", "unknown role", f"use one of {', '.join(ROLES)}"
            )
    return {role: data[role] for role in ROLES}


def _check_quality_administrators(path: Path, where: str, kind: str, qas: tuple[Person, ...]):
    field_ = where + ".quality_administrators"
    if kind == "school":
        lines = sorted(q.line or "" for q in qas)
        if len(qas) != 2 or lines != sorted(SCHOOL_LINES):
            raise RegistryError(
                path,
                field_,
                f"a school (院系) needs two quality administrators, one per line (党, 政); "
                f"found {len(qas)} with lines {lines}",
                "add one with `line: 党` and one with `line: 政`",
            )
    elif len(qas) != KINDS[kind]:
        raise RegistryError(
            path,
            field_,
            f"a {kind} department needs exactly one quality administrator, found {len(qas)}",
            "list one {name, email}",
        )


def _departments_field(path, data, key, departments, required: bool) -> tuple[str, ...]:
    value = data.get(key)
    if value in (None, [], ""):
        if required:
            raise RegistryError(path, key, "missing", f"add `{key}: [<部门名>]` (Table 1)")
        return ()
    if isinstance(value, str):
        value = [value]
    names: list[str] = []
    for name in value:
        if name == GROUP_ALL:
            names.extend(departments)
        elif name == GROUP_SCHOOLS:
            names.extend(n for n, d in departments.items() if d.kind == "school")
        elif name in departments:
            names.append(name)
        else:
            close = difflib.get_close_matches(
                str(name), [*departments, GROUP_ALL, GROUP_SCHOOLS], 1
            )
            hint = (
                f"did you mean '{close[0]}'?" if close else "add it to connectors/departments.yml"
            )
            raise RegistryError(path, key, f"unknown department '{name}'", hint)
    return tuple(dict.fromkeys(names))


def load_subsystem(path: Path, departments: dict[str, Department]) -> Subsystem:
    data = _read_yaml(path)
    unknown = sorted(set(data) - SUBSYSTEM_FIELDS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], SUBSYSTEM_FIELDS, 1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(SUBSYSTEM_FIELDS)}"
        raise RegistryError(path, unknown[0], "unknown field", hint)
    sid = _text(path, data, "id")
    if not ID_PATTERN.match(sid):
        raise RegistryError(path, "id", f"'{sid}' is not snake_case", "use a-z, 0-9 and _")
    if sid != path.stem:
        raise RegistryError(
            path,
            "id",
            f"'{sid}' differs from the file name",
            f"name the file {sid}.yml or set id: {path.stem}",
        )
    schedule = data.get("schedule")
    if not isinstance(schedule, dict):
        raise RegistryError(
            path,
            "schedule",
            "missing",
            "add schedule: {cron: '0 2 * * *', timezone: Asia/Shanghai}",
        )
    cron = _text(path, schedule, "cron", "schedule.")
    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise RegistryError(
            path,
            "schedule.cron",
            f"'{cron}' is not a valid 5-field cron",
            "write minute hour day month weekday, e.g. '30 1 * * *'",
        )
    tz = schedule.get("timezone", settings.TIMEZONE)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RegistryError(
            path,
            "schedule.timezone",
            f"unknown time zone '{tz}'",
            "use an IANA name such as Asia/Shanghai",
        ) from exc
    plan = data.get("plan") or {}
    if plan.get("frequency") not in FREQUENCIES:
        raise RegistryError(
            path,
            "plan.frequency",
            f"'{plan.get('frequency')}' is not known",
            f"use one of {', '.join(FREQUENCIES)}",
        )
    deadline = plan.get("deadline_hours")
    if not isinstance(deadline, int) or deadline <= 0:
        raise RegistryError(
            path,
            "plan.deadline_hours",
            f"'{deadline}' is not a positive integer",
            "give the hours allowed after each period, e.g. 8",
        )
    collectors = []
    for i, c in enumerate(data.get("collectors") or []):
        where = f"collectors[{i}]"
        role = _text(path, c if isinstance(c, dict) else {}, "role", where + ".")
        if c.get("department") and c["department"] not in departments:
            raise RegistryError(
                path,
                where + ".department",
                f"unknown department '{c['department']}'",
                "use a name from departments.yml",
            )
        if c.get("email") and not EMAIL_PATTERN.match(c["email"]):
            raise RegistryError(path, where + ".email", "not an e-mail address", "fix it")
        collectors.append(Collector(role, c.get("department"), c.get("name"), c.get("email")))
    if not collectors:
        raise RegistryError(path, "collectors", "missing", "list the 数据采集员 roles of Table 1")
    api = data.get("api")
    if api is not None and not isinstance(api, dict):
        raise RegistryError(path, "api", "must be a mapping", "see connectors/README.md")
    return Subsystem(
        id=sid,
        name_zh=_text(path, data, "name_zh"),
        name_en=_text(path, data, "name_en"),
        content=_text(path, data, "content"),
        description=_text(path, data, "description"),
        collectors=tuple(collectors),
        organising_departments=_departments_field(
            path, data, "organising_departments", departments, required=True
        ),
        managing_departments=_departments_field(
            path, data, "managing_departments", departments, required=True
        ),
        cron=cron,
        timezone=tz,
        plan=Plan(plan["frequency"], deadline, str(plan.get("note", ""))),
        source_file=path,
        api=api,
    )


def load_registry(
    subsystems_dir: Path = settings.SUBSYSTEMS_DIR,
    departments_file: Path = settings.DEPARTMENTS_FILE,
) -> Registry:
    vps, departments, roles = load_departments(departments_file)
    registry = Registry(vps, departments, roles=roles)
    for stray in sorted(subsystems_dir.glob("*.yaml")):
        raise RegistryError(
            stray,
            "(file)",
            "subsystem files end in .yml and this one is not read",
            f"rename it to {stray.stem}.yml",
        )
    for path in sorted(subsystems_dir.glob("*.yml")):
        s = load_subsystem(path, departments)
        if s.id in registry.subsystems:
            raise RegistryError(
                path, "id", f"duplicate id '{s.id}'", "give each subsystem its own id"
            )
        registry.subsystems[s.id] = s
    return registry


@cache
def registry() -> Registry:
    """The registry of this checkout, loaded once per process."""
    return load_registry()
