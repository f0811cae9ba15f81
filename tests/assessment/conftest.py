"""Fixtures for the assessment tests: a copy of the warehouse tests' sandbox college (collected
and built by dbt, tests/warehouse/conftest.py) with a term of history written into the same
tables the platform writes (landing.run_log, quality.warnings, reports.reports), so that the
year has on-time and late pulls, answered and unanswered warnings and missing reports."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from include.warehouse import connection
from tests.reports.conftest import server_context, tls  # noqa: F401 — real TLS SMTP
from tests.warehouse.conftest import DB, campus  # noqa: F401 — the shared built warehouse

YEAR = "2026-2027"
COPY = "xiaoben_assessment_test"

HISTORY = """
-- 教务处 (academic): every day's data in by 03:00, well before its 8-hour deadline
insert into landing.run_log (subsystem, resource, mode, started_at, finished_at, status,
    fetched, landed)
select 'academic', 'courses', 'incremental', d + interval '2 hours', d + interval '3 hours',
    'success', 100, 100
from generate_series(timestamptz '2026-10-01 00:00+08', timestamptz '2026-12-02 00:00+08',
    interval '1 day') as d;
-- 财务处 (finance): one pull on 2026-10-05, finished at 20:00 — after its 14:00 deadline —
-- and then nothing until the test collection
insert into landing.run_log (subsystem, resource, mode, started_at, finished_at, status,
    fetched, landed, rejected)
values ('finance', 'vouchers', 'incremental', '2026-10-05 19:00+08', '2026-10-05 20:00+08',
    'success', 50, 40, 10);
-- warnings: academic's answered the next day; finance's left open
insert into quality.warnings (kind, warning_key, subsystem, dataset, severity, title, status,
    opened_at, due_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, departments)
values
    ('data', 'hist:academic:1', 'academic', 'raw_academic.courses', '未通过',
     '课程代码不在代码集', 'resolved', '2026-10-10 09:00+08', '2026-10-13 09:00+08',
     '2026-10-10 15:00+08', 'huang.xiaoyan', '2026-10-11 10:00+08', 'huang.xiaoyan', '{教务处}'),
    ('data', 'hist:finance:1', 'finance', 'raw_finance.vouchers', '未通过',
     '凭证日期不存在', 'open', '2026-10-12 09:00+08', '2026-10-15 09:00+08',
     null, null, null, null, '{财务处}');
-- department analysis reports: 教务处 on time for September and October; 财务处 none
insert into reports.reports (kind, period_kind, period_id, department, title, generated_at,
    html_path, pdf_path, html_sha256, pdf_sha256, pdf_bytes)
values
    ('department', 'month', '2026-09', '教务处', '教务处数据分析报告（2026年9月）',
     '2026-10-02 06:00+08', 'h', 'p', 'x', 'x', 1),
    ('department', 'month', '2026-10', '教务处', '教务处数据分析报告（2026年10月）',
     '2026-11-02 06:00+08', 'h', 'p', 'x', 'x', 1);
"""


@pytest.fixture(scope="session")
def college(campus, warehouse_url):  # noqa: F811
    """URL of a copy of the built campus warehouse with a term of history added."""
    admin = connection.with_db(warehouse_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(COPY))
        )
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(COPY), sql.Identifier(DB)
            )
        )
    url = connection.with_db(warehouse_url, COPY)
    with psycopg.connect(url, autocommit=True) as conn:
        from include.warehouse import bootstrap

        bootstrap.apply_ddl(conn)
        conn.execute(HISTORY)
    return url
