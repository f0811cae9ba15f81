-- Write–audit–publish (Article 11): a raw batch (one pull) that fails a blocking check is held
-- here and kept out of the marts until it passes or the department's quality administrator
-- accepts it. dbt staging reads raw through the `publishable` filter, which skips open holds.
create table if not exists quality.holds (
    pull_id bigint primary key,
    subsystem text not null,
    resource text not null,
    held_at timestamptz not null default now(),
    reason text not null,
    failed_checks text [] not null default '{}',
    released_at timestamptz,
    released_by text,
    release_note text
);
comment on table quality.holds is '暂扣批次：阻断性检查未通过的采集批次，放行前不进入数据集市';
comment on column quality.holds.pull_id is '采集批次（landing.run_log.pull_id）';
comment on column quality.holds.subsystem is '子系统';
comment on column quality.holds.resource is '数据资源';
comment on column quality.holds.held_at is '暂扣时间';
comment on column quality.holds.reason is '暂扣原因';
comment on column quality.holds.failed_checks is '未通过的阻断性检查';
comment on column quality.holds.released_at is '放行时间（空 = 仍暂扣）';
comment on column quality.holds.released_by is '放行人（部门质量管理员）';
comment on column quality.holds.release_note is '放行说明（检查通过或人工接受的理由）';
