-- Audit trail (issue 15, item 7; 等保 2.0 安全审计): who released a held batch, answered an
-- approval or review step, entered or decided an assessment item, changed a rules file — when,
-- as whom, on what, before and after. One append-only table; written only through
-- audit.record() (include/audit.py calls it on the caller's own connection, so an event commits
-- or rolls back with the change it records). A statement trigger refuses UPDATE, DELETE and
-- TRUNCATE for every role, the platform's owner included. Read by 质管办 (xiaoben_qmo) and the
-- quality role; not by BI or department roles (include/warehouse/roles.py grants).
-- Idempotent: bootstrap runs this file on every start.

create schema if not exists audit;
comment on schema audit is '审计记录：放行、审批、审核、考核录入与裁决、规则文件变更；只追加，不可修改或删除';

create table if not exists audit.events (
    event_id bigint generated always as identity primary key,
    at timestamptz not null,
    recorded_at timestamptz not null default clock_timestamp(),
    actor text not null check (actor <> ''),
    actor_name text,
    actor_department text,
    actor_role text,
    action text not null check (action ~ '^[a-z_]+$'),
    object text not null check (object <> ''),
    before jsonb,
    after jsonb,
    detail jsonb not null default '{}',
    dag_id text,
    airflow_run_id text,
    db_user text not null default session_user
);
create index if not exists events_object_idx on audit.events (object, event_id);
create index if not exists events_at_idx on audit.events (at);
revoke all on audit.events from public;
comment on table audit.events is
    '审计记录（只追加）：谁在何时对何对象做了什么——放行暂扣批次、签署更正表、部门审核、'
    '考核 (a) 项录入、申诉裁决、规则文件变更';
comment on column audit.events.event_id is '记录序号（只增）';
comment on column audit.events.at is '操作发生时间';
comment on column audit.events.recorded_at is '写入审计表的时间';
comment on column audit.events.actor is
    '操作人身份：Airflow 用户名（待办应答者）、邮箱（放行人）或 git 提交作者';
comment on column audit.events.actor_name is '操作人姓名（按 departments.yml 名册）';
comment on column audit.events.actor_department is '操作人所在部门（按名册；校领导为空）';
comment on column audit.events.actor_role is '操作人身份：部门负责人 / 质量管理员 / 分管副院长 …';
comment on column audit.events.action is
    '操作：hold_release 放行 / correction_step 更正签署 / department_review 部门审核 / '
    'assessment_entry 考核 (a) 项录入 / appeal_decision 申诉裁决 / rules_file_changed 规则文件变更';
comment on column audit.events.object is
    '操作对象：quality.holds/批次号、corrections.requests/更正表编号、规则文件路径 …';
comment on column audit.events.before is '操作前的值（无则为空）';
comment on column audit.events.after is '操作后的值';
comment on column audit.events.detail is '说明：理由、意见、电子签名、触发的 Airflow 账号 …';
comment on column audit.events.dag_id is '所在 Airflow DAG';
comment on column audit.events.airflow_run_id is '所在 Airflow 运行';
comment on column audit.events.db_user is '写入时的数据库登录角色';

-- Append-only: any UPDATE, DELETE or TRUNCATE fails, whoever runs it (a statement trigger
-- fires even when no row matches). Only a superuser disabling triggers gets past it.
create or replace function audit.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '审计记录只可追加：audit.events 不允许%（%）',
        case tg_op when 'UPDATE' then '修改' when 'DELETE' then '删除' else '清空' end, tg_op
        using errcode = 'insufficient_privilege',
              hint = '审计记录不可更改；如需更正或说明，请追加一条新记录（include/audit.py record）';
end
$$;

create or replace trigger append_only
before update or delete or truncate on audit.events
for each statement execute function audit.refuse_change();

-- The one way in. SECURITY DEFINER: a role granted EXECUTE (roles.py) appends events without
-- any privilege on the table itself; db_user still records the session's login.
create or replace function audit.record(
    p_action text,
    p_object text,
    p_actor text,
    p_at timestamptz default null,
    p_actor_name text default null,
    p_actor_department text default null,
    p_actor_role text default null,
    p_before jsonb default null,
    p_after jsonb default null,
    p_detail jsonb default null,
    p_dag_id text default null,
    p_airflow_run_id text default null
) returns bigint
language sql volatile security definer set search_path = pg_catalog, audit as $$
    insert into audit.events (at, actor, actor_name, actor_department, actor_role, action,
        object, before, after, detail, dag_id, airflow_run_id, db_user)
    values (coalesce(p_at, now()), p_actor, p_actor_name, p_actor_department, p_actor_role,
        p_action, p_object, p_before, p_after, coalesce(p_detail, '{}'), p_dag_id,
        p_airflow_run_id, session_user)
    returning event_id
$$;
revoke all on function audit.record(
    text, text, text, timestamptz, text, text, text, jsonb, jsonb, jsonb, text, text
) from public;
comment on function audit.record(
    text, text, text, timestamptz, text, text, text, jsonb, jsonb, jsonb, text, text
) is '追加一条审计记录（唯一写入途径）；返回记录序号';
