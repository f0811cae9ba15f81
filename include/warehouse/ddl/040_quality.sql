-- Quality results, warnings and write–audit–publish (issue 6; Articles 4, 10, 11).
-- Owned by include/quality; dbt only reads these tables (the governance quality_* marts).
-- Every statement is idempotent: bootstrap runs this file on every start.

-- ---- SQL helpers the Soda contracts call ------------------------------------------------------

-- quality.gb11643_valid(text), the 身份证号 check, is created by bootstrap from include/rules/gb11643.py.

-- A calendar value in a vendor format that names a real day (20230231 does not). Parallel
-- unsafe: its exception block needs a subtransaction, which a parallel query cannot start.
-- fmt is a PostgreSQL to_timestamp pattern such as YYYYMMDD or YYYY-MM-DD HH24:MI:SS.
create or replace function quality.is_real_date(value text, fmt text) returns boolean
language plpgsql immutable parallel unsafe as $$
begin
    return to_char(to_timestamp(value, fmt), fmt) = value;
exception when others then
    return false;
end
$$;
comment on function quality.is_real_date(text, text) is '按给定格式的日期（时间）是否真实存在';

-- An ISO-8601 date-time (with or without offset) that PostgreSQL can read.
create or replace function quality.is_timestamp(value text) returns boolean
language plpgsql stable parallel unsafe as $$
begin
    perform value::timestamptz;
    return value ~ '^\d{4}-\d{2}-\d{2}';
exception when others then
    return false;
end
$$;
comment on function quality.is_timestamp(text) is 'ISO 8601 日期时间是否可读且真实存在';

-- ---- results history -----------------------------------------------------------------------

create table if not exists quality.check_runs (
    run_id bigserial primary key,
    trigger text not null,
    dag_id text,
    airflow_run_id text,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    contracts int not null default 0,
    checks int not null default 0,
    passed int not null default 0,
    failed int not null default 0,
    warned int not null default 0,
    not_evaluated int not null default 0,
    errors text [] not null default '{}',
    status text not null default 'running'
);
comment on table quality.check_runs is '质量检查运行：每次按数据契约（Soda）核验一批数据集一行';
comment on column quality.check_runs.trigger is '触发：landing 采集落地后 / warehouse 数仓构建后 / recheck 复核 / manual 手动';
comment on column quality.check_runs.dag_id is '执行检查的 Airflow DAG';
comment on column quality.check_runs.airflow_run_id is 'Airflow 运行标识';
comment on column quality.check_runs.contracts is '核验的数据契约数';
comment on column quality.check_runs.checks is '检查项总数';
comment on column quality.check_runs.errors is '契约执行错误（如 SQL 错误），空 = 无';
comment on column quality.check_runs.status is 'running 运行中 / done 完成 / error 有契约执行出错';

create table if not exists quality.check_results (
    result_id bigserial primary key,
    run_id bigint not null references quality.check_runs (run_id),
    verified_at timestamptz not null default now(),
    layer text not null check (layer in ('raw', 'marts')),
    dataset text not null,
    subsystem text,
    resource text,
    contract_file text not null,
    check_key text not null,
    check_class text not null,
    check_type text not null,
    check_name text not null,
    column_name text,
    principle text not null check (principle in ('原始性', '规范性', '完整性', '即时性')),
    blocking boolean not null default false,
    batch_scoped boolean not null default false,
    outcome text not null
        check (outcome in ('passed', 'failed', 'warned', 'not_evaluated', 'excluded')),
    threshold text,
    measured numeric,
    failing_count bigint,
    rows_tested bigint,
    diagnostics jsonb not null default '{}',
    sample_keys text [] not null default '{}',
    pull_ids bigint [] not null default '{}',
    failing_pull_ids bigint [] not null default '{}',
    departments text [] not null default '{}',
    responsible jsonb not null default '[]'
);
-- columns added after the first version of this table
alter table quality.check_results add column if not exists batch_scoped boolean not null default false;
create index if not exists check_results_subsystem_idx
    on quality.check_results (subsystem, verified_at desc);
create index if not exists check_results_check_idx
    on quality.check_results (dataset, check_key, verified_at desc);
create index if not exists check_results_run_idx on quality.check_results (run_id);
comment on table quality.check_results is
    '质量检查结果（历史）：每次运行每个检查项一行——数据集、子系统、原则、检查、结论、计数、'
    '不合格记录键样例（身份证号、手机号已脱敏）、覆盖的采集批次、责任部门与责任人';
comment on column quality.check_results.layer is '层：raw 原始层 / marts 数据集市';
comment on column quality.check_results.dataset is '数据集（schema.table）';
comment on column quality.check_results.subsystem is '子系统标识（跨子系统的集市为空）';
comment on column quality.check_results.resource is '资源（表）名';
comment on column quality.check_results.contract_file is '数据契约文件（soda/contracts/...）';
comment on column quality.check_results.check_key is '检查标识（契约中的 qualifier，数据集内唯一）';
comment on column quality.check_results.check_class is '检查类别（soda/check_classes.yml）';
comment on column quality.check_results.check_type is 'Soda 检查类型';
comment on column quality.check_results.check_name is '检查名称（中文句子）';
comment on column quality.check_results.column_name is '字段（字段级检查）';
comment on column quality.check_results.principle is '数据原则：原始性 / 规范性 / 完整性 / 即时性（第四条）';
comment on column quality.check_results.blocking is '是否阻断性检查（未通过则暂扣批次，不进入数据集市）';
comment on column quality.check_results.batch_scoped is '只检查本次核验的采集批次（否则检查整个数据集）';
comment on column quality.check_results.outcome is '结论：passed 通过 / failed 未通过 / warned 提醒 / not_evaluated 未能评估';
comment on column quality.check_results.threshold is '阈值';
comment on column quality.check_results.measured is '度量值';
comment on column quality.check_results.failing_count is '不合格行数';
comment on column quality.check_results.rows_tested is '检查的行数';
comment on column quality.check_results.diagnostics is 'Soda 诊断值';
comment on column quality.check_results.sample_keys is '不合格记录键样例（最多 5 个，敏感号码已脱敏）';
comment on column quality.check_results.pull_ids is '本次核验覆盖的采集批次';
comment on column quality.check_results.failing_pull_ids is '含不合格记录的采集批次';
comment on column quality.check_results.departments is '责任部门（归口管理、组织部门）';
comment on column quality.check_results.responsible is '责任人（姓名、邮箱、角色）';

-- Which pulls have been audited, so each landing is verified once (plus re-verification of
-- pulls on hold). The warehouse may use it to publish audited pulls only.
create table if not exists quality.audited_pulls (
    pull_id bigint primary key,
    dataset text not null,
    run_id bigint not null references quality.check_runs (run_id),
    audited_at timestamptz not null default now(),
    passed boolean not null
);
comment on table quality.audited_pulls is '已核验的采集批次（每批次首次核验一行）';
comment on column quality.audited_pulls.passed is '首次核验时阻断性检查是否全部通过';

-- ---- write–audit–publish: who held and who released -------------------------------------------

alter table quality.holds add column if not exists dataset text;
alter table quality.holds add column if not exists run_id bigint;
alter table quality.holds add column if not exists release_kind text;
alter table quality.holds add column if not exists release_run_id bigint;
comment on column quality.holds.dataset is '数据集（raw_<子系统>.<资源>）';
comment on column quality.holds.run_id is '发现问题的质量检查运行';
comment on column quality.holds.release_kind is '放行方式：recheck 复核通过 / accepted 质量管理员接受';
comment on column quality.holds.release_run_id is '复核通过的质量检查运行';

-- ---- warnings (预警) and their lifecycle ------------------------------------------------------

create table if not exists quality.warnings (
    warning_id bigserial primary key,
    kind text not null check (kind in ('data', 'indicator')),
    warning_key text not null,
    subsystem text,
    dataset text,
    check_key text,
    principle text,
    severity text not null,
    title text not null,
    detail text,
    advice text,
    status text not null default 'open'
        check (status in ('open', 'acknowledged', 'resolved')),
    opened_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    due_at timestamptz,
    first_result_id bigint,
    last_result_id bigint,
    failing_count bigint,
    sample_keys text [] not null default '{}',
    pull_ids bigint [] not null default '{}',
    departments text [] not null default '{}',
    recipients jsonb not null default '[]',
    escalated_at timestamptz,
    escalated_to jsonb not null default '[]',
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at timestamptz,
    resolved_by text,
    resolution text
);
create unique index if not exists warnings_one_unresolved
    on quality.warnings (warning_key) where status <> 'resolved';
create index if not exists warnings_subsystem_idx on quality.warnings (subsystem, opened_at);
comment on table quality.warnings is
    '预警（第十条）：数据预警（检查未通过、采集迟到或缺失）与指标预警（质控点预警、未达标）；'
    '生命周期 open 待处理 → acknowledged 已确认 → resolved 已解决';
comment on column quality.warnings.kind is 'data 数据预警 / indicator 指标预警';
comment on column quality.warnings.warning_key is '去重键：同一问题未解决前只有一条预警';
comment on column quality.warnings.severity is '级别：未通过 / 提醒 / 预警 / 未达标';
comment on column quality.warnings.advice is '处理建议';
comment on column quality.warnings.due_at is '处理期限（逾期未解决则升级至部门负责人）';
comment on column quality.warnings.recipients is '通知对象（数据采集员、质量管理员或质控点责任部门）';
comment on column quality.warnings.escalated_to is '升级通知的部门负责人';

create table if not exists quality.warning_events (
    event_id bigserial primary key,
    warning_id bigint not null references quality.warnings (warning_id),
    at timestamptz not null default now(),
    event text not null check (
        event in ('opened', 'seen', 'mailed', 'acknowledged', 'resolved', 'escalated', 'note')
    ),
    actor text,
    recipient_email text,
    recipient_name text,
    message_id text,
    result_id bigint,
    note text
);
create index if not exists warning_events_warning_idx
    on quality.warning_events (warning_id, at);
comment on table quality.warning_events is
    '预警处理过程：开启、再次发现、邮件通知（收件人、Message-ID）、确认（谁）、解决（谁、如何）、升级（至谁）';

create table if not exists quality.digests (
    digest_id bigserial primary key,
    digest_date date not null,
    recipient_email text not null,
    recipient_name text,
    sent_at timestamptz not null default now(),
    message_id text not null,
    subject text not null,
    warning_ids bigint [] not null,
    unique (recipient_email, digest_date)
);
comment on table quality.digests is '预警日报邮件：每人每天至多一封，汇总其全部未解决预警';

-- ---- what was wrong with subsystem X on day D, and who was told --------------------------------

create or replace view quality.day_report as
select
    (r.verified_at at time zone 'Asia/Shanghai')::date as day,
    r.subsystem,
    r.dataset,
    r.principle,
    r.check_name,
    r.outcome,
    r.blocking,
    r.failing_count,
    r.sample_keys,
    r.failing_pull_ids,
    r.verified_at,
    w.warning_id,
    w.status as warning_status,
    coalesce((
        select array_agg(
            e.recipient_name || ' <' || e.recipient_email || '> '
            || to_char(e.at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
            order by e.at, e.recipient_email
        )
        from quality.warning_events as e
        where e.warning_id = w.warning_id and e.event = 'mailed'
    ), '{}') as told,
    coalesce((
        select array_agg(distinct h.pull_id)
        from quality.holds as h
        where h.pull_id = any(r.failing_pull_ids)
    ), '{}') as held_pulls
from quality.check_results as r
left join lateral (
    select ww.warning_id, ww.status
    from quality.warnings as ww
    where
        ww.kind = 'data'
        and ww.dataset = r.dataset
        and ww.check_key = r.check_key
        and ww.opened_at <= r.verified_at + interval '1 minute'
        and coalesce(ww.resolved_at, 'infinity') >= r.verified_at
    order by ww.opened_at desc
    limit 1
) as w on true
where r.outcome in ('failed', 'warned', 'not_evaluated');
comment on view quality.day_report is
    '某子系统某日出了什么问题、告诉了谁：where subsystem = ''academic'' and day = ''2026-09-22''';
