"""Least privilege with real logins (issue 15, item 1): every role × object × expected.

Each role connects with its own password (include/warehouse/credentials.py) to the
bootstrapped warehouse; a permitted statement must work, a forbidden one must be refused by
PostgreSQL. Department roles see only their own rows (row-level security).
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from include.warehouse import connection, credentials, dbt, roles

DEPT = roles.department_role("108")  # 设计创新学院: organises major_development, not finance
OTHER_DEPT = roles.department_role("208")  # 财务处: manages finance

AUDIT_PROBE = "'hold_release', 'quality.holds/0', 'probe'"  # rolled back after each statement
# (role, statement, allowed)
MATRIX = [
    (roles.LOADER, "insert into raw_academic.sec_probe values ('x')", True),
    (roles.LOADER, "select * from landing.run_log limit 1", True),
    (roles.LOADER, "select * from marts.dim_students", False),
    (roles.LOADER, "select * from staging.sec_probe", False),
    (roles.LOADER, "create table marts.sec_loader (x int)", False),
    (roles.LOADER, "select * from private.pii_key", False),
    (roles.TRANSFORMER, "select * from raw_academic.sec_probe", True),
    (roles.TRANSFORMER, "create table marts.sec_made (x int); drop table marts.sec_made", True),
    (roles.TRANSFORMER, "select private.pii_hmac('430102200501010253')", True),
    (roles.TRANSFORMER, "insert into raw_academic.sec_probe values ('x')", False),
    (roles.TRANSFORMER, "select * from private.pii_key", False),
    (roles.QUALITY, "select * from raw_academic.sec_probe", True),
    (roles.QUALITY, "select * from staging.sec_probe", True),
    (roles.QUALITY, "select * from marts.dim_students", True),
    (roles.QUALITY, "create table quality.sec_q (x int); drop table quality.sec_q", True),
    (roles.QUALITY, "insert into raw_academic.sec_probe values ('x')", False),
    (roles.QUALITY, "select * from private.pii_key", False),
    (roles.QUALITY, "select private.pii_hmac('430102200501010253')", False),
    (roles.QMO, "select * from marts.dim_students", True),
    (roles.QMO, "select * from quality.warnings", True),
    (roles.QMO, "select * from raw_academic.sec_probe", False),
    (roles.QMO, "select * from staging.sec_probe", False),
    (roles.QMO, "select * from landing.run_log", False),
    (roles.QMO, "select private.pii_hmac('430102200501010253')", False),
    (roles.QMO, "create table marts.sec_qmo (x int)", False),
    (roles.BI, "select * from marts.dim_students", True),
    (roles.BI, "select * from quality.warnings", False),
    (roles.BI, "select * from raw_academic.sec_probe", False),
    (roles.BI, "select * from staging.sec_probe", False),
    (roles.BI, "select * from landing.run_log", False),
    (roles.BI, "select * from private.pii_key", False),
    (roles.BI, "select private.pii_hmac('430102200501010253')", False),
    (roles.BI, "delete from marts.dim_students", False),
    (DEPT, "select * from marts.dim_students", True),
    (DEPT, "select * from quality.warnings", True),
    (DEPT, "select * from raw_academic.sec_probe", False),
    (DEPT, "select * from staging.sec_probe", False),
    (DEPT, "select * from private.subsystem_departments", False),
    (DEPT, "delete from quality.warnings", False),
    # the audit trail (ddl/090_audit.sql): 质管办 reads it; appending only via audit.record()
    (roles.QMO, "select * from audit.events", True),
    (roles.QMO, "delete from audit.events", False),
    (roles.QMO, f"select audit.record({AUDIT_PROBE})", False),
    (roles.QUALITY, "select * from audit.events", True),
    (roles.QUALITY, f"select audit.record({AUDIT_PROBE})", True),
    (
        roles.QUALITY,
        "insert into audit.events (at, actor, action, object) select now(), 'x', 'x', 'x'",
        False,
    ),
    (roles.QUALITY, "update audit.events set actor = 'x'", False),
    (roles.BI, "select * from audit.events", False),
    (roles.BI, f"select audit.record({AUDIT_PROBE})", False),
    (DEPT, "select * from audit.events", False),
    (DEPT, f"select audit.record({AUDIT_PROBE})", False),
    (roles.LOADER, "select * from audit.events", False),
    (roles.TRANSFORMER, f"select audit.record({AUDIT_PROBE})", False),
    # dbt as the transformer: its sources, nothing more of quality and corrections
    (roles.TRANSFORMER, "select * from quality.holds", True),
    (roles.TRANSFORMER, "select * from quality.check_results", True),
    (roles.TRANSFORMER, "select * from corrections.overlay", True),
    (roles.TRANSFORMER, "select * from quality.warnings", False),
    (roles.TRANSFORMER, "select * from corrections.form_numbers", False),
    (roles.TRANSFORMER, "insert into quality.holds (pull_id) values (0)", False),
    (roles.TRANSFORMER, "create table quality.sec_t (x int)", False),
    (roles.TRANSFORMER, "delete from quality.check_results", False),
    (roles.TRANSFORMER, "insert into landing.run_log (subsystem) values ('x')", False),
    (roles.TRANSFORMER, "create table landing.sec_t (x int)", False),
    (roles.TRANSFORMER, "create table reports.sec_t (x int)", False),
    (roles.TRANSFORMER, "delete from corrections.overlay", False),
    (roles.TRANSFORMER, "select private.scope_marts('{}'::jsonb)", True),
    # quality, reports, corrections and assessment tasks as the quality role
    (roles.QUALITY, "create table marts.sec_q (x int)", False),
    (roles.QUALITY, "delete from marts.dim_students", False),
    (roles.QUALITY, "create table staging.sec_q (x int)", False),
    (roles.QUALITY, "create table landing.sec_q (x int)", False),
    (roles.QUALITY, "select private.scope_marts('{}'::jsonb)", False),
    (roles.QUALITY, "create table reports.sec_q (x int); drop table reports.sec_q", True),
    (roles.QUALITY, "select * from corrections.requests", True),
    (roles.QUALITY, "update corrections.form_numbers set last_seq = last_seq", True),
    (roles.QUALITY, "select * from assessment.facts", True),
    (roles.QUALITY, "delete from assessment.facts where false", True),
    (roles.QMO, "select * from corrections.requests", True),
    (roles.QMO, "update corrections.form_numbers set last_seq = last_seq", False),
    (roles.QMO, "select private.scope_marts('{}'::jsonb)", False),
    (roles.BI, "create table reports.sec_b (x int)", False),
    # departments: a mart only with its policy; nothing dbt made without a declared scope
    (DEPT, "select * from marts.sec_unscoped", False),
    (DEPT, "select * from marts.dim_calendar", True),
    (DEPT, "select private.scope_marts('{}'::jsonb)", False),
    (DEPT, "select * from corrections.requests", False),
    (DEPT, "select * from reports.reports", False),
]


@pytest.fixture(scope="module")
def scoped(warehouse_url):
    """Probe tables in each layer (made by the owner, as dbt and landing make theirs)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("create table if not exists raw_academic.sec_probe (v text)")
        conn.execute("create schema if not exists staging")
        conn.execute("create table if not exists staging.sec_probe (v text)")
        conn.execute("drop table if exists marts.dim_students")
        conn.execute("create table marts.dim_students (student_id text, org_unit_code text)")
        conn.execute("insert into marts.dim_students values ('s1', '108'), ('s2', '208')")
        conn.execute("delete from quality.warnings where warning_key like 'sec_%'")
        for sid in ("major_development", "finance"):
            conn.execute(
                "insert into quality.warnings (kind, warning_key, subsystem, severity, title)"
                " values ('data', %s, %s, 'warning', 'probe')",
                [f"sec_{sid}", sid],
            )
        conn.execute("drop table if exists marts.dim_calendar")
        conn.execute("create table marts.dim_calendar (term_id text)")
    from include.warehouse.bootstrap import bootstrap

    bootstrap()  # grants again: the staging schema made above is now covered
    with psycopg.connect(connection.role_url(roles.TRANSFORMER), autocommit=True) as conn:
        conn.execute("drop table if exists marts.sec_unscoped")
        conn.execute("create table marts.sec_unscoped (org_unit_code text)")
        scopes = dbt.department_scopes()  # what dbt's on-run-end does, as dbt's role
        conn.execute("select private.scope_marts(%s)", [Jsonb(scopes)])
    yield warehouse_url
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop table marts.dim_students, marts.dim_calendar, marts.sec_unscoped")
        conn.execute("delete from quality.warnings where warning_key like 'sec_%'")


@pytest.mark.parametrize(("role", "statement", "allowed"), MATRIX)
def test_role_matrix(scoped, role, statement, allowed):
    with psycopg.connect(connection.role_url(role)) as conn:
        try:
            conn.execute(statement)
            worked = True
        except psycopg.errors.InsufficientPrivilege:
            worked = False
        conn.rollback()
    assert worked == allowed, f"{role}: {statement}"


def test_department_sees_only_its_own_rows(scoped):
    def rows(role, query):
        with psycopg.connect(connection.role_url(role)) as conn:
            return sorted(r[0] for r in conn.execute(query))

    students = "select org_unit_code from marts.dim_students"
    warnings = "select subsystem from quality.warnings where warning_key like 'sec_%'"
    assert rows(DEPT, students) == ["108"]
    assert rows(OTHER_DEPT, students) == ["208"]
    assert rows(DEPT, warnings) == ["major_development"]
    assert rows(OTHER_DEPT, warnings) == ["finance"]
    assert rows(roles.QMO, students) == ["108", "208"]
    assert rows(roles.BI, students) == ["108", "208"]


def test_every_login_needs_its_password(scoped):
    """No trust: a role without its password, or with another's, is refused."""
    if connection.configured_url():
        pytest.skip("authentication is the configured server's")
    wrong = connection.role_url(roles.BI).replace(
        credentials.password(roles.BI), credentials.password(roles.LOADER)
    )
    no_password = connection.role_url(roles.BI).split(":", 2)
    no_password = f"{no_password[0]}:{no_password[1]}@{connection.role_url(roles.BI).split('@')[1]}"
    for url in (wrong, no_password, connection.warehouse_url().replace(
        f":{connection.embedded().password()}@", "@"
    )):  # fmt: skip
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url).close()


def test_secrets_are_owner_only(scoped):
    for path in credentials.secrets_dir().iterdir():
        assert path.stat().st_mode & 0o077 == 0, path


def test_tables_the_loader_creates_are_read_by_transformer_and_quality(scoped):
    with psycopg.connect(connection.role_url(roles.LOADER), autocommit=True) as conn:
        conn.execute("drop table if exists raw_academic.sec_loader_made")
        conn.execute(
            "create table raw_academic.sec_loader_made (pull_id bigint"
            " references landing.run_log (pull_id), v text)"
        )
    try:
        for role in (roles.TRANSFORMER, roles.QUALITY):
            with psycopg.connect(connection.role_url(role)) as conn:
                assert conn.execute("select count(*) from raw_academic.sec_loader_made").fetchone()
        with psycopg.connect(connection.role_url(roles.BI)) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(*) from raw_academic.sec_loader_made")
    finally:
        with psycopg.connect(connection.role_url(roles.LOADER), autocommit=True) as conn:
            conn.execute("drop table raw_academic.sec_loader_made")


def _as_owner(rule: str, code: str) -> str:
    """A mart's declared scope as the owner evaluates it for department `code`."""
    import re

    rule = rule.replace("private.my_department()", f"'{code}'")
    return re.sub(
        r"private\.my_subsystem\((\w+)\)",
        rf"\1 in (select d.subsystem from private.subsystem_departments as d"
        rf" where d.department_code = '{code}')",
        rule,
    )


def test_dbt_builds_as_the_transformer_and_scopes_every_mart(campus):
    """The campus warehouse was built by `dbt build` (dbt.run: as xiaoben_transformer). Every
    mart is the transformer's; none is granted to departments without its row policy, unless
    it is declared whole_school; one declared none is not granted at all."""
    scopes = dbt.department_scopes()
    marts = campus.query(
        "select c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity,"
        " has_table_privilege(%s, c.oid, 'select') from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = 'marts' and c.relkind in ('r', 'v')",
        [roles.DEPARTMENTS],
    )
    assert {name for name, *_ in marts} == {t.removeprefix("marts.") for t in scopes}
    for name, owner, rls, granted in marts:
        scope = scopes[f"marts.{name}"]
        assert owner == roles.TRANSFORMER, name
        assert granted == (scope != "none"), f"marts.{name}: declared {scope!r}, granted {granted}"
        assert rls or scope in ("whole_school", "none"), f"marts.{name}: granted without RLS"


def test_a_department_sees_only_its_own_rows_in_every_scoped_mart(campus):
    """Per scoped mart: the department with the most rows reads exactly the owner's count of
    its rows (> 0), and so does every other department (its own count, possibly 0)."""
    from include.registry import registry

    codes = sorted(d.code for d in registry().departments.values() if d.code)
    scoped = {t: r for t, r in dbt.department_scopes().items() if r not in ("whole_school", "none")}
    expected: dict[str, dict[str, int]] = {}
    for table, rule in scoped.items():
        expected[table] = {
            code: campus.query(f"select count(*) from {table} where {_as_owner(rule, code)}")[0][0]
            for code in codes
        }
    empty = sorted(t for t, per in expected.items() if not any(per.values()))
    # built from data the sandbox's two weeks do not have (no correction yet)
    assert empty == ["marts.correction_history"], empty
    seen: dict[str, dict[str, int]] = {t: {} for t in scoped}
    for code in codes:
        with psycopg.connect(
            connection.role_url(roles.department_role(code), campus.db_url)
        ) as conn:
            for table in scoped:
                seen[table][code] = conn.execute(f"select count(*) from {table}").fetchone()[0]
    for table in scoped:
        assert seen[table] == expected[table], table
        if table not in empty:
            assert max(seen[table].values()) > 0, table
            total = campus.query(f"select count(*) from {table}")[0][0]
            assert max(seen[table].values()) < total or len(codes) == 1, f"{table}: not scoped"
