"""Fixtures for the assessment tests: a copy of the warehouse tests' sandbox college (collected
and built by dbt, tests/warehouse/conftest.py) with a term of history written into the same
tables the platform writes (landing.run_log, quality.warnings, reports.reports,
corrections.steps, corrections.reviews), so that the year has on-time and late pulls, answered
and unanswered warnings, missing reports, and quick, slow and escalated answers."""

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
-- correction approval (Annex 1). 教务处's own request: its head signs in 6 hours, the
-- vice-president the next morning, 质管办 (袁芳) 48 hours after the vice-president.
with q as (
    insert into corrections.requests (form_no, reporting_department, subsystem, reason,
        filler_name, submitted_at, status, request_hash)
    values ('GY-2026-9001', '教务处', 'academic', '课程学分录入错误', '黄晓燕',
        '2026-10-15 09:00+08', 'verified', 'h1')
    returning request_id
)
insert into corrections.steps (request_id, step_kind, assignee_user, assignee_name,
    responded_by, decision, at)
select q.request_id, v.k, v.u, v.n, v.u, 'approve', v.t::timestamptz
from q, (values
    ('department_heads', 'zhou.lixin', '周立新', '2026-10-15 15:00+08'),
    ('vice_president', 'ouyang.jianhua', '欧阳建华', '2026-10-16 09:00+08'),
    ('quality_office', 'yuan.fang', '袁芳', '2026-10-18 09:00+08')) as v (k, u, n, t);
-- a cross-department request (assets: organised by 财务处, managed by 后勤处): 后勤处's head
-- signs in 3 hours; 财务处's head is reminded, then escalated 96 hours after submission.
with q as (
    insert into corrections.requests (form_no, reporting_department, subsystem, reason,
        filler_name, submitted_at, status, status_reason, closed_at, request_hash)
    values ('GY-2026-9002', '财务处', 'assets', '资产原值录入错误', '胡静',
        '2026-10-20 09:00+08', 'timed_out', '组织部门负责人 罗秀英 逾期未签',
        '2026-10-24 09:00+08', 'h2')
    returning request_id
)
insert into corrections.steps (request_id, step_kind, assignee_user, assignee_name,
    responded_by, decision, at)
select q.request_id, v.k, v.u, v.n, v.r, v.d, v.t::timestamptz
from q, (values
    ('managing_head', 'tang.zhiqiang', '唐志强', 'tang.zhiqiang', 'approve',
     '2026-10-20 12:00+08'),
    ('reminder', 'luo.xiuying', '罗秀英', null, 'remind', '2026-10-22 09:00+08'),
    ('escalation', 'luo.xiuying', '罗秀英', null, 'escalate', '2026-10-24 09:00+08'))
    as v (k, u, n, r, d, t);
-- department review tasks: 教务处's answered in 8 hours; 财务处's never answered
insert into corrections.reviews (subsystem, period, department, reviewer_user, created_at,
    decided_at, decided_by, decisions)
values
    ('academic', '2026-10', '教务处', 'huang.xiaoyan', '2026-11-03 09:00+08',
     '2026-11-03 17:00+08', 'huang.xiaoyan', '[]'),
    ('finance', '2026-10', '财务处', 'hu.jing', '2026-11-03 09:00+08', null, null, null);
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
