"""The warehouse's database roles: least privilege, one login each (issue 15, item 1).

Role: reads / writes / used by (connection.PURPOSES chooses the role of each task).

- xiaoben_loader: reads and writes raw_*, landing / collection.
- xiaoben_transformer: reads raw_*, landing, quality.holds, quality.check_results and
  corrections.overlay, items, requests, steps (dbt's sources); writes and owns staging,
  intermediate, marts, snapshots, seeds / dbt.
- xiaoben_quality: reads everything but `private`; writes quality, reports, corrections,
  assessment, and the audit trail through audit.record() / Soda and the quality tasks, reports,
  the correction workflow, the assessment.
- xiaoben_qmo (质管办): reads everything but clear personal data (raw_*, landing, staging,
  intermediate, snapshots), the audit trail included; writes nothing / the people of 质管办.
- xiaoben_bi: reads marts (personal data masked or HMAC'd) and assessment / BI tools.
- xiaoben_dept_<code>: reads the marts that declare a `department_scope`, only its own rows
  (row-level security), and the quality results and warnings of its own subsystems / the
  department's users.

Why the quality role also writes reports, corrections and assessment: each of those tasks reads
what only it and the loader/transformer may read (reports and the assessment count landing's run
log and rejects; the correction workflow reads the value as landed in raw_*), and each is the
quality office's work (Articles 11–13). A separate role per task would hold the same reads; the
writes differ by schema only, so one role keeps the table short without widening any read.
Nothing else writes those schemas; the transformer reads the four corrections tables dbt's
`publishable` macro and the correction_history mart read, and no other corrections table.

Clear personal data lives in raw_*, landing, staging and intermediate only; so only the
loader, the transformer and the quality role (and the bootstrapping owner) can read it. The
personal-data key is in schema `private`, which no role can read; only the transformer may call
`private.pii_hmac()` (include/warehouse/ddl/005_private.sql).

The transformer owns what dbt builds (bootstrap hands over tables an older version built as the
owner), so dbt can replace them; tables it creates are readable by quality, 质管办 and BI through
default privileges `for role xiaoben_transformer` (_read). Department roles get no default
privilege on marts: a mart is granted to them only by private.scope_marts(), which dbt's
on-run-end calls with each mart's declared `department_scope` (config.meta in the mart's yml),
after its row-level security policy is in place: a SQL condition over the mart's own columns,
`whole_school` for school-wide reference tables and aggregates, or `none` (not granted: the two
quality views, which cannot carry a policy; departments read quality.check_results instead).

Department roles are members of the group `xiaoben_departments`; row-level security on
department-scoped tables compares a row's department code with the role's name
(`xiaoben_dept_<code>`), so the policy needs no lookup the role could tamper with. Every role
logs in with its own password (include/warehouse/credentials.py). Idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from include.registry import Registry
from include.warehouse import credentials

LOADER, TRANSFORMER, QUALITY, QMO, BI = (
    "xiaoben_loader", "xiaoben_transformer", "xiaoben_quality", "xiaoben_qmo", "xiaoben_bi",
)  # fmt: skip
DEPARTMENTS = "xiaoben_departments"  # group of the department roles (no login)
CLEAR_PII = ("landing", "staging", "intermediate", "snapshots")  # plus every raw_* schema
TRANSFORMED = ("staging", "intermediate", "marts", "snapshots", "seeds")
# What dbt reads outside raw_* and landing (its sources), and nothing more of those schemas.
TRANSFORMER_READS = (
    "quality.holds", "quality.check_results",
    "corrections.overlay", "corrections.items", "corrections.requests", "corrections.steps",
)  # fmt: skip
QUALITY_WRITES = ("quality", "reports", "corrections", "assessment")
# Department-scoped marts: private.scope_marts() (ddl/005_private.sql), run after every dbt build.
RLS_QUALITY = ("quality.check_results", "quality.warnings")  # scoped by subsystem
AUDIT_RECORD = (
    "audit.record(text, text, text, timestamptz, text, text, text, jsonb, jsonb, jsonb, text, text)"
)


def department_role(code: str) -> str:
    return f"xiaoben_dept_{code}"


def login_roles(reg: Registry) -> list[str]:
    depts = [department_role(d.code) for d in reg.departments.values() if d.code]
    return [LOADER, TRANSFORMER, QUALITY, QMO, BI, *depts]


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def _x(conn: psycopg.Connection, template: str, *names: str) -> None:
    conn.execute(sql.SQL(template).format(*[_ident(n) for n in names]))


def ensure_role(conn: psycopg.Connection, role: str, login: bool = True) -> None:
    if not conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone():
        _x(conn, "create role {}", role)
    if login:
        conn.execute(
            sql.SQL("alter role {} login password {}").format(
                sql.Identifier(role), sql.Literal(credentials.password(role))
            )
        )
    _x(conn, "revoke all on schema public from {}", role)


def _schemas(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select nspname from pg_namespace where nspname not like 'pg\\_%'"
        " and nspname not in ('information_schema', 'public', 'private')"
    ).fetchall()
    return [r[0] for r in rows]


WRITERS = (LOADER, TRANSFORMER, QUALITY)  # roles that create tables others must read


def _read(conn, schema: str, role: str) -> None:
    _x(conn, "grant usage on schema {} to {}", schema, role)
    _x(conn, "grant select on all tables in schema {} to {}", schema, role)
    _x(conn, "alter default privileges in schema {} grant select on tables to {}", schema, role)
    for owner in WRITERS:  # tables a writer role creates later are readable too
        _x(conn, "alter default privileges for role {} in schema {} grant select on tables to {}",
           owner, schema, role)  # fmt: skip


def _unread(conn, schema: str, role: str) -> None:
    _x(conn, "revoke all on all tables in schema {} from {}", schema, role)
    _x(conn, "alter default privileges in schema {} revoke all on tables from {}", schema, role)
    for owner in (w for w in WRITERS if w != role):
        _x(conn, "alter default privileges for role {} in schema {} revoke all on tables from {}",
           owner, schema, role)  # fmt: skip


def _write(conn, schema: str, role: str) -> None:
    _x(conn, "grant usage, create on schema {} to {}", schema, role)
    _x(conn, "grant select, insert, update, delete, truncate, references on all tables in schema"
       " {} to {}", schema, role)  # fmt: skip
    _x(conn, "grant usage, select, update on all sequences in schema {} to {}", schema, role)
    _x(conn, "alter default privileges in schema {} grant select, insert, update, delete, "
       "truncate on tables to {}", schema, role)  # fmt: skip
    _x(conn, "alter default privileges in schema {} grant usage, select, update on sequences "
       "to {}", schema, role)  # fmt: skip


def grant(conn: psycopg.Connection, reg: Registry) -> None:
    """Every role's privileges, from the table in the module docstring."""
    for s in TRANSFORMED:  # made here, so dbt needs no CREATE on the database
        _x(conn, "create schema if not exists {}", s)
    schemas = _schemas(conn)
    raw = [s for s in schemas if s.startswith("raw_")]
    for s in [*raw, "landing"]:
        _write(conn, s, LOADER)
        _read(conn, s, TRANSFORMER)
    for s in TRANSFORMED:
        _write(conn, s, TRANSFORMER)
        hand_over(conn, s, TRANSFORMER)
    for s in ("quality", "corrections"):  # dbt's sources there, nothing else (an older version
        _unread(conn, s, TRANSFORMER)  # let it read all of quality)
        _x(conn, "grant usage on schema {} to {}", s, TRANSFORMER)
    for table in TRANSFORMER_READS:
        _x(conn, "grant select on {} to {}", table, TRANSFORMER)
    for s in schemas:
        _read(conn, s, QUALITY)
    for s in QUALITY_WRITES:
        _write(conn, s, QUALITY)
    for s in schemas:
        if s in raw or s in CLEAR_PII:
            for role in (QMO, BI, DEPARTMENTS):
                _x(conn, "revoke all on schema {} from {}", s, role)
                _x(conn, "revoke all on all tables in schema {} from {}", s, role)
        else:
            _read(conn, s, QMO)
    _read(conn, "marts", BI)
    for s in ("marts", "quality"):
        _x(conn, "grant usage on schema {} to {}", s, DEPARTMENTS)
    _x(conn, "grant usage on schema {} to {}", "private", TRANSFORMER)
    ensure = "function landing.ensure_raw_table(text, text, text, text)"
    conn.execute(f"revoke all on {ensure} from public")
    for role in (LOADER, TRANSFORMER):  # a security definer: only those who make raw tables
        _x(conn, f"grant execute on {ensure} to {{}}", role)
    # The audit trail (ddl/090_audit.sql): 质管办 and the quality role read it (the loops
    # above: it holds no clear personal data); BI and departments get nothing. Events are
    # appended only through audit.record(), a security definer the quality role may call.
    conn.execute(f"revoke all on function {AUDIT_RECORD} from public")
    _x(conn, f"grant execute on function {AUDIT_RECORD} to {{}}", QUALITY)
    conn.execute("revoke all on function private.pii_hmac(text) from public")
    _x(conn, "grant execute on function private.pii_hmac(text) to {}", TRANSFORMER)
    _x(conn, "grant execute on function private.scope_marts(jsonb) to {}", TRANSFORMER)
    department_access(conn, reg)


def hand_over(conn: psycopg.Connection, schema: str, role: str) -> None:
    """Make `role` the owner of every table, view and sequence in `schema` (dbt replaces what
    it builds, which only the owner may; an older version built them as the bootstrap owner)."""
    rows = conn.execute(
        "select c.relname, c.relkind from pg_class as c join pg_namespace as n"
        " on n.oid = c.relnamespace where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm')"
        " and pg_get_userbyid(c.relowner) <> %s",
        [schema, role],
    ).fetchall()
    for name, kind in rows:
        what = {"v": "view", "m": "materialized view"}.get(kind, "table")
        _x(conn, f"alter {what} {{}} owner to {{}}", f"{schema}.{name}", role)


def department_access(conn: psycopg.Connection, reg: Registry) -> None:
    """Department roles: SELECT on the scoped tables, rows limited by policy (RLS)."""
    conn.execute("delete from private.subsystem_departments")
    with conn.cursor() as cur:
        cur.executemany(
            "insert into private.subsystem_departments (subsystem, department_code)"
            " values (%s, %s) on conflict do nothing",
            [
                (s.id, reg.departments[name].code)
                for s in reg.subsystems.values()
                for name in (*s.organising_departments, *s.managing_departments)
                if name in reg.departments and reg.departments[name].code
            ],
        )
    for table in RLS_QUALITY:
        _x(conn, "grant select on {} to {}", table, DEPARTMENTS)
        _x(conn, "alter table {} enable row level security", table)
        _x(conn, "drop policy if exists whole_school on {}", table)
        _x(conn, "create policy whole_school on {} for all to {}, {}, {}, {} using (true)",
           table, QUALITY, QMO, TRANSFORMER, BI)  # fmt: skip
        _x(conn, "drop policy if exists own_subsystems on {}", table)
        _x(conn, "create policy own_subsystems on {} for select to {} using "
           "(private.my_subsystem(subsystem))", table, DEPARTMENTS)  # fmt: skip
    # Marts are scoped by dbt's on-run-end (private.scope_marts), which knows each mart's rule.


def ensure(conn: psycopg.Connection, reg: Registry) -> list[str]:
    """Create the roles and grant their privileges; returns the login roles."""
    roles = login_roles(reg)
    ensure_role(conn, DEPARTMENTS, login=False)
    for role in roles:
        ensure_role(conn, role)
        if role.startswith("xiaoben_dept_"):
            _x(conn, "grant {} to {}", DEPARTMENTS, role)
    grant(conn, reg)
    return roles
