-- Audit and correction (Article 11, Annex 1 数据采集更正表; issue 11). Owned by include/corrections.
-- A correction request names records and fields, the value as landed and the new value; its
-- approval chain (organising and managing department heads, the vice-president in charge, then
-- 质管办's verification) is recorded step by step; an approved, verified correction becomes a row
-- of the overlay, which dbt applies in staging (macro `publishable`). Raw is never edited.
-- Every statement is idempotent: bootstrap runs this file on every start.

create schema if not exists corrections;

-- Form numbers per year: GY-<year>-<4-digit sequence>, allocated by one upsert.
create table if not exists corrections.form_numbers (
    year int primary key,
    last_seq int not null
);
comment on table corrections.form_numbers is '更正表编号：每年一个序列（GY-2026-0012）';

create table if not exists corrections.requests (
    request_id bigserial primary key,
    form_no text not null unique,
    reporting_department text not null,
    subsystem text not null,
    reason text not null,
    filler_name text not null,
    filler_user text,
    filler_email text,
    submitted_at timestamptz not null default now(),
    status text not null default 'submitted'
        check (status in ('submitted', 'approved', 'verified', 'refused', 'timed_out')),
    status_reason text,
    closed_at timestamptz,
    request_hash text not null,
    dag_run_id text
);
comment on table corrections.requests is
    '数据采集更正申请（附件1）：报送部门、子系统、理由、填报人、状态（submitted 审批中 / approved 已批准 / '
    'verified 质管办已核验 / refused 已退回 / timed_out 超时未办）';
comment on column corrections.requests.form_no is '更正表编号（GY-年份-序号）';
comment on column corrections.requests.reporting_department is '报送部门';
comment on column corrections.requests.reason is '更正理由';
comment on column corrections.requests.filler_name is '填报人';
comment on column corrections.requests.request_hash is '申请内容的 SHA-256（电子签名所签之内容）';
comment on column corrections.requests.status_reason is '退回或超时的原因（退回填报人）';
comment on column corrections.requests.dag_run_id is '审批流程的 Airflow 运行 ID';

create table if not exists corrections.items (
    item_id bigserial primary key,
    request_id bigint not null references corrections.requests (request_id),
    subsystem text not null,
    resource text not null,
    source_key text not null,
    field text not null,
    column_name text,
    old_value text,
    new_value text not null,
    landed_pull_id bigint
);
create index if not exists items_record_idx
    on corrections.items (subsystem, resource, source_key);
comment on table corrections.items is '更正内容：每条记录每个字段一行，原值为原始层最新版本中的值';
comment on column corrections.items.source_key is '源记录键（原始层 source_key）';
comment on column corrections.items.field is '源字段名（子系统文件 fields: 中声明）';
comment on column corrections.items.column_name is '集市/暂存层列名';
comment on column corrections.items.old_value is '原值（落地时的值）';
comment on column corrections.items.new_value is '更正后的值';
comment on column corrections.items.landed_pull_id is '原值所在的采集批次';

create table if not exists corrections.steps (
    step_id bigserial primary key,
    request_id bigint not null references corrections.requests (request_id),
    step_kind text not null check (step_kind in (
        'submit', 'organising_head', 'managing_head', 'department_heads', 'vice_president',
        'quality_office', 'reminder', 'escalation', 'source_confirmed', 'source_still_old'
    )),
    assignee_user text,
    assignee_name text,
    responded_by text,
    decision text not null
        check (decision in ('submit', 'approve', 'refuse', 'timeout', 'remind', 'escalate', 'note')),
    opinion text,
    at timestamptz not null default now(),
    signature text
);
create index if not exists steps_request_idx on corrections.steps (request_id, at);
comment on table corrections.steps is '审批步骤：谁、何时、何种步骤、决定、意见与电子签名';
comment on column corrections.steps.step_kind is
    '步骤：organising_head 组织部门负责人 / managing_head 归口管理部门负责人 / department_heads '
    '两者为同一人 / vice_president 分管副院长 / quality_office 质管办核验 / reminder 催办 / escalation 升级';
comment on column corrections.steps.signature is '电子签名：姓名|时间|决定|申请哈希 的 SHA-256';

-- The overlay: written only by the workflow (include/corrections/workflow.py sets the session
-- setting below inside its transaction); any other writer is refused by the trigger.
create table if not exists corrections.overlay (
    item_id bigint primary key references corrections.items (item_id),
    request_id bigint not null references corrections.requests (request_id),
    form_no text not null,
    subsystem text not null,
    resource text not null,
    source_key text not null,
    field text not null,
    old_value text,
    new_value text not null,
    approved_at timestamptz not null,
    verified_at timestamptz not null,
    confirmed_at_source_at timestamptz,
    confirmed_pull_id bigint,
    source_warned_at timestamptz
);
create index if not exists overlay_record_idx on corrections.overlay (subsystem, resource, source_key);
comment on table corrections.overlay is
    '已批准并经质管办核验的更正（审计覆盖层）：dbt 暂存层在原始载荷上叠加这些值，原始层从不修改';
comment on column corrections.overlay.confirmed_at_source_at is '源系统自身发来更正后值的时间（源头已确认）';
comment on column corrections.overlay.source_warned_at is '源系统逾期仍发旧值、已向采集人预警的时间';

create or replace function corrections.overlay_guard() returns trigger
language plpgsql as $$
begin
    if coalesce(current_setting('xiaoben.corrections_workflow', true), '') <> 'on' then
        raise exception '更正覆盖层只能由更正流程写入 (corrections.overlay is written only by the workflow)';
    end if;
    return coalesce(new, old);
end;
$$;
drop trigger if exists overlay_guard on corrections.overlay;
create trigger overlay_guard before insert or update or delete on corrections.overlay
for each row execute function corrections.overlay_guard();

create table if not exists corrections.forms (
    form_no text primary key,
    request_id bigint not null references corrections.requests (request_id),
    status text not null,
    html_path text not null,
    pdf_path text not null,
    pdf_sha256 text not null,
    generated_at timestamptz not null default now(),
    dag_run_id text
);
comment on table corrections.forms is '已生成的数据采集更正表（附件1）：HTML 与 PDF 文件及其 SHA-256';

-- Department review (Article 11): per subsystem and period, what the checks flagged, and the
-- quality administrator's decision per item (confirm as correct / return to the filler).
create table if not exists corrections.reviews (
    review_id bigserial primary key,
    subsystem text not null,
    period text not null,
    department text not null,
    reviewer_user text not null,
    items jsonb not null default '[]',
    created_at timestamptz not null default now(),
    decided_at timestamptz,
    decided_by text,
    decisions jsonb,
    dag_run_id text,
    unique (subsystem, period, department)
);
comment on table corrections.reviews is '部门审核任务：子系统×采集周期，列出检查与预警标出的问题，逐项确认或退回填报人';
