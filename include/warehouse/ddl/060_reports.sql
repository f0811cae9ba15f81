-- Analysis reports (issue 12; Articles 12 and 13): every report generated, and every figure
-- printed in it with its trace. Owned by include/reports.
-- Every statement is idempotent: bootstrap runs this file on every start.

create schema if not exists reports;

create table if not exists reports.reports (
    report_id bigserial primary key,
    kind text not null check (kind in ('department', 'school')),
    period_kind text not null check (period_kind in ('month', 'term', 'year')),
    period_id text not null,
    department text not null,
    title text not null,
    generated_at timestamptz not null default now(),
    dag_id text,
    airflow_run_id text,
    html_path text not null,
    pdf_path text not null,
    html_sha256 text not null,
    pdf_sha256 text not null,
    pdf_bytes bigint not null,
    figures int not null default 0,
    refused_figures int not null default 0,
    findings jsonb not null default '[]',
    recipients jsonb not null default '[]',
    message_id text,
    sent_at timestamptz,
    send_attempts int not null default 0,
    send_error text
);
create index if not exists reports_period_idx
    on reports.reports (kind, period_kind, period_id, department, generated_at desc);
comment on table reports.reports is
    '分析报告登记（第十二、十三条）：部门数据分析报告与学校人才培养状态分析报告，每生成一次一行——'
    '类别、周期、部门、生成时间、文件与其 SHA-256、收件人、发送时间';
comment on column reports.reports.kind is 'department 部门数据分析报告 / school 学校人才培养状态分析报告';
comment on column reports.reports.period_kind is '周期类型：month 月 / term 学期 / year 学年';
comment on column reports.reports.period_id is '周期：2026-09 / 2026-2027-1 / 2026-2027';
comment on column reports.reports.department is '报告部门（学校报告为 质管办）';
comment on column reports.reports.html_path is 'HTML 文件（亦为邮件正文）';
comment on column reports.reports.pdf_path is 'PDF 文件（邮件附件）';
comment on column reports.reports.figures is '印出的数字个数（每个在 reports.figures 有溯源）';
comment on column reports.reports.refused_figures is '因无法溯源而未印出的数字个数';
comment on column reports.reports.findings is '自动生成的发现（规则、级别、中文说明）';
comment on column reports.reports.recipients is '收件人（姓名、邮箱、身份）';
comment on column reports.reports.message_id is '已发送邮件的 Message-ID（未发送为空）';
comment on column reports.reports.sent_at is '发送时间（未发送为空；同一周期已发送则重跑不再发送，除非要求重发）';
comment on column reports.reports.send_attempts is '发送尝试次数';
comment on column reports.reports.send_error is '最近一次发送失败的原因';

create table if not exists reports.figures (
    figure_id bigserial primary key,
    report_id bigint not null references reports.reports (report_id) on delete cascade,
    figure_key text not null,
    label text not null,
    value numeric,
    unit text,
    source_relation text not null,
    query text not null,
    params jsonb not null default '{}',
    subsystems text [] not null default '{}',
    as_of timestamptz not null,
    pull_ids bigint [] not null,
    corrections jsonb not null default '[]',
    responsible_departments text [] not null,
    responsible_people text [] not null default '{}',
    unique (report_id, figure_key)
);
comment on table reports.figures is
    '报告数字溯源：报告中每个印出的数字一行——来源集市（表）与查询及参数、最新一次采集的截止时间、'
    '涉及的采集批次、已应用的更正、责任部门与责任人。无法溯源的数字不印出。';
comment on column reports.figures.figure_key is '数字标识（报告内唯一，如 cp:SCH01:value）';
comment on column reports.figures.label is '数字名称（中文）';
comment on column reports.figures.value is '印出的值';
comment on column reports.figures.source_relation is '来源（marts.<表>、landing.run_log、quality.check_results 等）';
comment on column reports.figures.query is '取数 SQL（参数见 params）';
comment on column reports.figures.params is '查询参数（周期、部门、子系统等）';
comment on column reports.figures.subsystems is '数据来源子系统';
comment on column reports.figures.as_of is '数据截止时间：所涉子系统最新一次成功采集的结束时间';
comment on column reports.figures.pull_ids is '涉及的采集批次（landing.run_log.pull_id）';
comment on column reports.figures.corrections is
    '所涉更正（附件 1 更正表）：集市数字为所涉子系统已生效（叠加于暂存层）的更正表；'
    '更正表计数为所计的表，含状态、填报人、签署人与质管办核验人';
comment on column reports.figures.responsible_departments is '责任部门（归口管理部门，marts.data_responsibility）';
comment on column reports.figures.responsible_people is '责任人（部门负责人、质量管理员）';
