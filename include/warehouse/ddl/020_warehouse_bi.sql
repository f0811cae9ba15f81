-- The read-only BI role (xiaoben_bi, created by bootstrap) sees the marts schema only.
-- dbt grants SELECT on every mart it builds (`grants` config) and USAGE on the schema after
-- each run; this file makes the same true before the first build and for tables created
-- later by the bootstrapping role, and states explicitly that nothing else is readable.
-- Idempotent: bootstrap runs it on every start.
create schema if not exists marts;
comment on schema marts is '数据集市：诊改五层（学校、专业、课程、教师、学生）、质控点与数据责任，供各部门与 BI 工具只读使用';
grant usage on schema marts to xiaoben_bi;
alter default privileges in schema marts grant select on tables to xiaoben_bi;

do $$
declare
    s text;
begin
    for s in
        select nspname from pg_namespace
        where nspname like 'raw\_%' or nspname in ('staging', 'intermediate', 'snapshots', 'seeds', 'landing')
    loop
        execute format('revoke all on schema %I from xiaoben_bi', s);
        execute format('revoke all on all tables in schema %I from xiaoben_bi', s);
    end loop;
end
$$;
