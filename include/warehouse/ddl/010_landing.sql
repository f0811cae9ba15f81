-- Collection landing (issue 4): the run log, the rejects and the incremental cursors.
-- Raw tables raw_<id>.<resource> are created by landing.ensure_raw_table (015_raw_tables.sql).
-- Every statement is idempotent: bootstrap runs this file on every start.

create table if not exists landing.run_log (
    pull_id bigserial primary key,
    subsystem text not null,
    resource text not null,
    dag_id text,
    run_id text,
    mode text not null,
    window_start timestamptz,
    window_end timestamptz,
    fetched int not null default 0,
    landed int not null default 0,
    duplicates int not null default 0,
    rejected int not null default 0,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running',
    error text,
    cursor_after text
);

-- list-ids-then-get resources (a `detail:` in the subsystem file): how many ids the listing gave,
-- and how many of them were not fetched because their landed version is final (detail.final)
alter table landing.run_log add column if not exists listed int;
alter table landing.run_log add column if not exists skipped_final int not null default 0;
-- what the pull noticed and did about it (a source restored from backup: the full re-read)
alter table landing.run_log add column if not exists note text;

do $$
begin
    if not exists (
        select 1 from pg_constraint where conname = 'run_log_listed_reconcile'
    ) then
        alter table landing.run_log add constraint run_log_listed_reconcile
            check (status = 'running' or listed is null or listed = fetched + skipped_final);
    end if;
    if not exists (
        select 1 from pg_constraint where conname = 'run_log_mode_check'
    ) then
        alter table landing.run_log add constraint run_log_mode_check
            check (mode in ('full', 'incremental'));
    end if;
    -- not_submitted: the source said its data is not submitted yet (a timeliness finding)
    if not exists (
        select 1 from pg_constraint where conname = 'run_log_status_check'
          and pg_get_constraintdef(oid) like '%not_submitted%'
    ) then
        alter table landing.run_log drop constraint if exists run_log_status_check;
        alter table landing.run_log add constraint run_log_status_check
            check (status in ('running', 'success', 'failed', 'not_submitted'));
    end if;
    if not exists (
        select 1 from pg_constraint where conname = 'run_log_counts_reconcile'
    ) then
        alter table landing.run_log add constraint run_log_counts_reconcile
            check (status = 'running' or fetched = landed + duplicates + rejected);
    end if;
end
$$;

create index if not exists run_log_subsystem_resource_idx
    on landing.run_log (subsystem, resource, started_at desc);

comment on table landing.run_log is
    '采集拉取日志：每次拉取一行（子系统、资源、时间窗、拉取/落地/重复/拒收条数、起止时间、状态、错误）。'
    '即时性（Article 4）与年终考核的事实依据；已结束的拉取必须满足 拉取 = 落地 + 重复 + 拒收。';
comment on column landing.run_log.pull_id is '拉取编号（raw 表与拒收表的 pull_id 指向此处）';
comment on column landing.run_log.subsystem is '子系统标识（connectors/subsystems/<id>.yml）';
comment on column landing.run_log.resource is '资源（数据集）名称，对应 raw_<子系统>.<资源>';
comment on column landing.run_log.dag_id is '执行拉取的 Airflow DAG（命令行或测试拉取时为空）';
comment on column landing.run_log.run_id is 'Airflow 运行标识';
comment on column landing.run_log.mode is '拉取方式：full 全量 / incremental 增量（自上次游标起，含回看）';
comment on column landing.run_log.window_start is '时间窗起点（含，>=）；全量刷新且无时间字段的资源为空';
comment on column landing.run_log.window_end is '时间窗终点（不含，<）';
comment on column landing.run_log.fetched is '从接口收到的记录条数（含重复与拒收）';
comment on column landing.run_log.landed is '新落地的记录版本数（新主键或内容变化的新版本）';
comment on column landing.run_log.duplicates is '重复记录数（跨页重复、重叠时间窗、重跑；已存在的同一版本）';
comment on column landing.run_log.rejected is '拒收记录数（见 landing.rejects）';
comment on column landing.run_log.started_at is '开始时间';
comment on column landing.run_log.finished_at is '结束时间（运行中为空）';
comment on column landing.run_log.status is
    '状态：running 运行中 / success 成功 / failed 失败 / not_submitted 数据源尚未报送（即时性问题，不重试）';
comment on column landing.run_log.error is '失败原因，或数据源说明的未报送原因（成功时为空）';
comment on column landing.run_log.listed is
    '先列 id 再逐条获取的资源：列表给出的 id 数（= 拉取 + 已结束跳过）；其他资源为空';
comment on column landing.run_log.skipped_final is
    '已落地版本为终态（子系统文件 detail.final，如已完成的审批实例）而本次未获取的 id 数；全量拉取为 0';
comment on column landing.run_log.note is
    '说明：拉取发现并处理的情况（如源系统从备份恢复、游标回退后改为全量重读）；无则为空';
comment on column landing.run_log.cursor_after is '本次成功拉取后的增量游标（游标字段的最大值，ISO 8601）';

create table if not exists landing.rejects (
    reject_id bigserial primary key,
    pull_id bigint not null references landing.run_log (pull_id),
    subsystem text not null,
    resource text not null,
    source_key text,
    reason_code text not null,
    field text,
    reason text not null,
    raw_text text not null,
    received_at timestamptz not null default now()
);

create index if not exists rejects_subsystem_resource_idx
    on landing.rejects (subsystem, resource, received_at desc);

comment on table landing.rejects is
    '拒收记录：不符合字段规范而未进入 raw 表的记录，原文逐字保存，连同原因退回填报人更正（Article 11）。';
comment on column landing.rejects.reject_id is '拒收编号';
comment on column landing.rejects.pull_id is '所属拉取（landing.run_log.pull_id）';
comment on column landing.rejects.subsystem is '子系统标识';
comment on column landing.rejects.resource is '资源名称';
comment on column landing.rejects.source_key is '记录主键（主键缺失时为空）';
comment on column landing.rejects.reason_code is
    '原因代码：not_json 非 JSON 对象 / missing_key 主键缺失 / missing_required 必填缺失 / '
    'invalid_code 代码不在国标代码集 / impossible_date 日期不存在 / bad_id_checksum 身份证校验位错误 / '
    'not_storable 含数据库无法存储的字符';
comment on column landing.rejects.field is '出错字段';
comment on column landing.rejects.reason is '原因说明（中文，指明字段与更正方法）';
comment on column landing.rejects.raw_text is '收到的原文（逐字保存）';
comment on column landing.rejects.received_at is '收到时间';

create table if not exists landing.cursors (
    subsystem text not null,
    resource text not null,
    cursor_field text not null,
    cursor_value timestamptz not null,
    pull_id bigint not null references landing.run_log (pull_id),
    updated_at timestamptz not null default now(),
    primary key (subsystem, resource)
);

comment on table landing.cursors is
    '增量游标（高水位）：每个子系统资源已成功拉取到的游标字段最大值；下次增量拉取从此值起（含，>=），去重落地。';
comment on column landing.cursors.subsystem is '子系统标识';
comment on column landing.cursors.resource is '资源名称';
comment on column landing.cursors.cursor_field is '游标字段（如 gxsj、updateTime、EffectTime）';
comment on column landing.cursors.cursor_value is '已见到的游标最大值';
comment on column landing.cursors.pull_id is '推进该游标的拉取';
comment on column landing.cursors.updated_at is '更新时间';
