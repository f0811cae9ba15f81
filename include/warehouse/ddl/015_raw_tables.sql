-- The raw layer's one table shape (原始性, Article 11): every raw_<id>.<resource> is created by
-- this function and nowhere else. Landing (connectors/landing.py) calls it before a resource's
-- pull, with the table's Chinese comment and what its source key is made of; dbt
-- (macros/hooks.sql, on-run-start) calls it for every raw source, so a subsystem not pulled
-- yet leaves an empty table instead of breaking the build. Each row is one version of a
-- source record exactly as received; the same version seen again is not stored twice.
-- Idempotent: bootstrap runs this file on every start.
-- SECURITY DEFINER: it runs as the warehouse owner whoever calls it (the loader while landing,
-- dbt at the start of a build, in either order), so every raw table has one owner and its
-- comments can always be set; the loader writes through the schema's default privileges
-- (include/warehouse/roles.py), and only the loader and the transformer may call it.

create or replace function landing.ensure_raw_table(
    raw_schema text,
    raw_table text,
    table_comment text default null,
    key_comment text default null
) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
declare
    t text := format('%I.%I', raw_schema, raw_table);
begin
    if not exists (select 1 from pg_namespace where nspname = raw_schema) then
        -- the bootstrap makes every raw schema; a subsystem added since gets its schema here
        execute format('create schema %I', raw_schema);
    end if;
    execute format(
        'create table if not exists %s ('
        ' pull_id bigint not null references landing.run_log (pull_id),'
        ' fetched_at timestamptz not null,'
        ' source_key text not null,'
        ' payload_hash text not null,'
        ' payload jsonb not null,'
        ' primary key (source_key, payload_hash))',
        t
    );
    -- a table made before this function by dbt's old copy of the DDL lacks the foreign key
    if not exists (
        select 1 from pg_constraint
        where conrelid = t::regclass and contype = 'f' and confrelid = 'landing.run_log'::regclass
    ) then
        execute format(
            'alter table %s add foreign key (pull_id) references landing.run_log (pull_id) not valid',
            t
        );
    end if;
    -- dbt's incremental staging reads only the pulls after the ones it has (pull_id > its
    -- watermark): without this index every build scans the whole raw table for one day's rows.
    -- Looked up first: CREATE INDEX takes a share lock on the table even when the index exists,
    -- which would wait for (and block) a pull landing into it at the same time.
    if not exists (
        select 1 from pg_index as i join pg_attribute as a
            on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where i.indrelid = t::regclass and a.attname = 'pull_id'
    ) then
        execute format('create index %I on %s (pull_id)', raw_table || '_pull_id_idx', t);
    end if;
    if table_comment is not null then
        execute format('comment on table %s is %L', t, table_comment);
    end if;
    execute format('comment on column %s.pull_id is %L', t, '拉取编号（landing.run_log）');
    execute format('comment on column %s.fetched_at is %L', t, '收到该页数据的时间');
    execute format(
        'comment on column %s.source_key is %L', t,
        coalesce(key_comment, '源系统主键（复合主键以 | 连接）')
    );
    execute format(
        'comment on column %s.payload_hash is %L', t, 'payload 规范 JSON（键排序、紧凑）的 SHA-256'
    );
    execute format(
        'comment on column %s.payload is %L', t, '源系统返回的原始记录（原样保存，不做任何修改）'
    );
end
$fn$;

comment on function landing.ensure_raw_table(text, text, text, text) is
    '建立原始层表 raw_<子系统>.<资源>（唯一定义处；落地与 dbt 均调用）';

-- The current version of each record of a raw table: per source_key the row fetched last, the
-- later pull on a tie (a record that changed back, A → B → A, is re-stamped by landing so this
-- holds). The one definition of "latest version per key": the raw contracts' cross-system
-- checks, the tests, and dbt's publishable() read records through it. published_only skips
-- versions whose pull is on hold in quality.holds (write–audit–publish: the previous published
-- version stays current); after_pull keeps only pulls after it and pulls released since
-- (dbt's incremental staging tables).
create or replace function landing.latest_versions(
    raw_table regclass,
    published_only boolean default false,
    after_pull bigint default null
) returns table (
    pull_id bigint, fetched_at timestamptz, source_key text, payload_hash text, payload jsonb
)
language plpgsql stable as $fn$
begin
    return query execute format(
        'select distinct on (r.source_key)'
        ' r.pull_id, r.fetched_at, r.source_key, r.payload_hash, r.payload'
        ' from %s as r where true%s%s'
        ' order by r.source_key asc, r.fetched_at desc, r.pull_id desc',
        raw_table,
        case when published_only then
            ' and not exists (select 1 from quality.holds as h'
            ' where h.pull_id = r.pull_id and h.released_at is null)'
        else '' end,
        case when after_pull is not null then format(
            -- = any(array(...)): both arms are conditions on the pull_id index (a bitmap OR);
            -- an IN (subquery) arm would make the planner scan the whole table
            ' and (r.pull_id > %s or r.pull_id = any(array(select h.pull_id from quality.holds'
            ' as h where h.released_at is not null)))', after_pull
        ) else '' end
    );
end
$fn$;

comment on function landing.latest_versions(regclass, boolean, bigint) is
    '每条记录的当前版本（按 source_key 取最后收到的一版；可跳过暂扣批次）';
