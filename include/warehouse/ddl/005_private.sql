-- Schema `private`: what no reading role may see (issue 15). Readable by the bootstrapping
-- owner only; include/warehouse/roles.py grants the transformer EXECUTE on pii_hmac() alone.
-- Idempotent: bootstrap runs it on every start, then stores the key (credentials.pii_key()).
create schema if not exists private;
revoke all on schema private from public;
comment on schema private is '平台私有：个人信息密钥与访问范围，仅平台所有者可读';

-- HMAC-SHA256 key as RFC 2104's padded inner/outer keys, so hashing needs only sha256().
create table if not exists private.pii_key (
    singleton boolean primary key default true check (singleton),
    ipad bytea not null,
    opad bytea not null
);
revoke all on private.pii_key from public;

-- Keyed hash of a personal identifier: HMAC-SHA256(key, value), hex. SECURITY DEFINER so the
-- transformer can hash without reading the key; nobody else may call it (it would be an
-- oracle to test guesses against). dbt calls it through the pii_hash() macro.
create or replace function private.pii_hmac(value text) returns text
language sql stable strict security definer set search_path = pg_catalog, private as $$
    select encode(sha256(k.opad || sha256(k.ipad || convert_to(value, 'UTF8'))), 'hex')
    from private.pii_key as k
$$;
revoke all on function private.pii_hmac(text) from public;

-- Which department (unit code) answers for which subsystem (organising or managing), from the
-- subsystem files; rewritten by every bootstrap.
create table if not exists private.subsystem_departments (
    subsystem text not null,
    department_code text not null,
    primary key (subsystem, department_code)
);
revoke all on private.subsystem_departments from public;

-- The unit code of the department role running the query (xiaoben_dept_<code>), else null.
create or replace function private.my_department() returns text
language sql stable security definer set search_path = pg_catalog as $$
    select substring(session_user::text from '^xiaoben_dept_(.+)$')
$$;

create or replace function private.my_subsystem(subsystem text) returns boolean
language sql stable security definer set search_path = pg_catalog, private as $$
    select exists (
        select 1 from private.subsystem_departments as d
        where d.subsystem = $1 and d.department_code = private.my_department()
    )
$$;
grant usage on schema private to public;  -- only to call the two functions above
revoke all on all tables in schema private from public;
grant execute on function private.my_department() to public;
grant execute on function private.my_subsystem(text) to public;

-- Row-level security on the marts (dbt rebuilds them: dbt_project.yml's on-run-end calls this
-- with every mart's declared `department_scope`, config.meta in the mart's yml, the one home of
-- the rule). `scopes` maps a table to a SQL condition over its own columns (a department role
-- sees the rows where it holds), to 'whole_school' (reference tables and school-wide
-- aggregates: every row), or to 'none' (not granted: a view, which cannot carry row-level
-- security, over tables the departments read under their own policies). The policy is in place before the department group's grant, and no
-- mart is granted to departments otherwise (no default privilege), so none is readable
-- without its policy. SECURITY INVOKER: the caller is the transformer, the marts' owner.
drop function if exists private.scope_marts();
create or replace function private.scope_marts(scopes jsonb) returns void
language plpgsql set search_path = pg_catalog as $$
declare
    t record;
begin
    for t in
        select s.key as tbl, s.value #>> '{}' as rule
        from jsonb_each(scopes) as s
        where to_regclass(s.key) is not null
    loop
        if t.rule = 'none' then
            execute format('revoke all on %s from xiaoben_departments', t.tbl);
            continue;
        end if;
        if t.rule <> 'whole_school' and (
            select c.relkind <> 'r' from pg_class as c where c.oid = t.tbl::regclass
        ) then
            raise exception '%: department_scope needs a table (a view cannot carry row-level'
                ' security): declare none or whole_school, or materialize it as a table', t.tbl;
        end if;
        if t.rule <> 'whole_school' then
            execute format('alter table %s enable row level security', t.tbl);
            execute format('drop policy if exists whole_school on %s', t.tbl);
            execute format('create policy whole_school on %s for select to xiaoben_bi,'
                ' xiaoben_qmo, xiaoben_quality, xiaoben_transformer using (true)', t.tbl);
            execute format('drop policy if exists own_department on %s', t.tbl);
            begin
                execute format('create policy own_department on %s for select'
                    ' to xiaoben_departments using (%s)', t.tbl, t.rule);
            exception when undefined_table then  -- a partial build (dbt -s) without the mart
                raise notice '%: not granted to departments yet (%)', t.tbl, sqlerrm;
                execute format('revoke all on %s from xiaoben_departments', t.tbl);
                continue;  -- its rule reads a mart not built yet: the next build grants it
            end;
        end if;
        execute format('grant select on %s to xiaoben_departments', t.tbl);
    end loop;
end
$$;
revoke all on function private.scope_marts(jsonb) from public;
