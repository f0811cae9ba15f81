-- Year-end assessment of departments' data work (issue 13; Articles 14–16). Owned by
-- include/assessment. Readable by BI (xiaoben_bi), like the marts.
-- Every statement is idempotent: bootstrap runs this file on every start.

create schema if not exists assessment;
comment on schema assessment is '年终考核（第十四至十六条）：各部门数据工作的事实、得分、排名与不得评优评先标记，供 BI 只读';

create table if not exists assessment.runs (
    run_id bigserial primary key,
    academic_year text not null,
    rules_version text not null,
    rules_sha256 text not null,
    rules jsonb not null,
    computed_at timestamptz not null default now(),
    as_of timestamptz not null,
    dag_id text,
    airflow_run_id text,
    corrections_counted boolean not null,
    html_path text,
    pdf_path text,
    recipients jsonb not null default '[]',
    message_id text,
    sent_at timestamptz
);
comment on table assessment.runs is '考核计算：每次计算一行——学年、规则版本与 SHA-256、数据截止时间、报告文件与发送';
comment on column assessment.runs.rules is '当时的规则文件内容（include/assessment/rules.yml）';
comment on column assessment.runs.as_of is '数据截止时间（学年结束与计算时间中较早者）';
comment on column assessment.runs.corrections_counted is '是否计入更正（corrections.requests 存在时才计入）';

create table if not exists assessment.facts (
    fact_id bigserial primary key,
    run_id bigint not null references assessment.runs (run_id) on delete cascade,
    department text not null,
    scope text not null check (scope in ('own', 'managed', 'department')),
    indicator text not null,
    criterion text not null,
    label text not null,
    numerator numeric,
    denominator numeric,
    value numeric,
    unit text not null,
    score numeric,
    subsystems text [] not null default '{}',
    source_relation text not null,
    query text not null,
    params jsonb not null,
    row_table text not null,
    row_ids text [] not null default '{}',
    evidence jsonb not null default '[]'
);
create index if not exists facts_run_idx on assessment.facts (run_id, department);
comment on table assessment.facts is
    '考核事实：每部门每指标一行——分子、分母、值、按曲线得分，及其来源表、查询（参数）与所涉行号；'
    '重跑查询即可复核';
comment on column assessment.facts.scope is
    'own 本部门组织采集的子系统 / managed 本部门归口管理、由其他部门组织的子系统 / department 部门层面';
comment on column assessment.facts.row_table is '所涉行所在的表与主键（如 landing.run_log.pull_id）';
comment on column assessment.facts.row_ids is '所涉行的主键';
comment on column assessment.facts.evidence is '扣分证据（迟到或缺失的采集、未解决的预警、缺报的报告）';

create table if not exists assessment.manual_scores (
    entry_id bigserial primary key,
    academic_year text not null,
    department text not null,
    score numeric not null check (score between 0 and 100),
    comment text,
    marked_people text [] not null default '{}',
    entered_by text not null,
    entered_at timestamptz not null default now(),
    source text not null,
    dag_id text,
    airflow_run_id text
);
create index if not exists manual_scores_idx
    on assessment.manual_scores (academic_year, department, entered_at desc);
comment on table assessment.manual_scores is
    '(a) 部门负责人重视程度与组织措施：质管办在 Airflow 表单中录入的得分，谁、何时录入；'
    '以及经确认数据错误并造成后果的人员（第十六条，只由人录入，从不推断）';
comment on column assessment.manual_scores.marked_people is '经确认数据错误并造成后果的人员';
comment on column assessment.manual_scores.entered_by is '录入人（Airflow 用户）';
comment on column assessment.manual_scores.source is '录入方式：hitl Airflow 表单 / api 接口 / cli 命令行';

create table if not exists assessment.results (
    run_id bigint not null references assessment.runs (run_id) on delete cascade,
    department text not null,
    score_a numeric,
    score_b numeric,
    score_c numeric,
    score_d numeric,
    own_total numeric,
    managed_total numeric,
    total numeric not null,
    rank int not null,
    passed boolean not null,
    barred boolean not null,
    manual_entry_id bigint references assessment.manual_scores (entry_id),
    marked_people text [] not null default '{}',
    previous_total numeric,
    notes text [] not null default '{}',
    primary key (run_id, department)
);
comment on table assessment.results is
    '考核结果：每部门一行——四项得分、本部门与所管子系统结果、综合得分、名次、是否合格、'
    '是否不得参与评优评先、上一学年综合得分';
comment on column assessment.results.barred is '不得参与评优评先（综合得分低于合格线）';

create table if not exists assessment.appeals (
    appeal_id bigserial primary key,
    run_id bigint not null references assessment.runs (run_id),
    department text not null,
    fact_id bigint references assessment.facts (fact_id),
    indicator text,
    reason text not null,
    filed_by text not null,
    filed_at timestamptz not null default now(),
    decision text check (decision in ('upheld', 'rejected')),
    decision_reason text,
    decided_by text,
    decided_at timestamptz,
    recomputed_run_id bigint references assessment.runs (run_id)
);
comment on table assessment.appeals is
    '申诉：部门对被标记事实的申诉、质管办的决定与理由；支持的申诉使该指标不计分并重新计算';

grant usage on schema assessment to xiaoben_bi;
grant select on all tables in schema assessment to xiaoben_bi;
alter default privileges in schema assessment grant select on tables to xiaoben_bi;
