{#- on-run-start: make sure every raw table the sources declare exists (a subsystem that has
    not been pulled yet must not break the warehouse build, it just has no rows). The table's
    one definition is landing.ensure_raw_table (include/warehouse/ddl/015_raw_tables.sql),
    which landing uses too. -#}
{% macro ensure_raw_tables() %}
    {%- if execute -%}
        {%- for src in graph.sources.values() if src.source_name.startswith('raw_') -%}
        select landing.ensure_raw_table('{{ src.schema }}', '{{ src.name }}');
        {% endfor -%}
    {%- endif -%}
{% endmacro %}

{#- on-run-end: the read-only BI role sees the marts schema and nothing else. Table-level
    SELECT comes from the `grants` config of every mart; this adds USAGE on the schema and
    makes sure staging, intermediate, snapshots and seeds stay closed even if someone granted
    them by hand. -#}
{% macro grant_marts_to_bi() %}
    {%- set role = var('bi_role') -%}
    {%- if execute -%}
        
        do $grant$
        begin
            if exists (select 1 from pg_roles where rolname = '{{ role }}') then
                if exists (select 1 from pg_namespace where nspname = 'marts') then
                    grant usage on schema marts to {{ role }};
                end if;
        {%- for schema in ['staging', 'intermediate', 'snapshots', 'seeds'] %}
                if exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
                    revoke all on schema {{ schema }} from {{ role }};
                    revoke all on all tables in schema {{ schema }} from {{ role }};
                end if;
        {%- endfor %}
            end if;
        end
        $grant$;
    {%- endif -%}
{% endmacro %}

{#- Row-level security of the department-scoped marts, which every build recreates
    (private.scope_marts() in include/warehouse/ddl/005_private.sql). -#}
{% macro scope_department_marts() %}
    {%- if execute -%}
        do $scope$
        begin
            if exists (select 1 from pg_proc where proname = 'scope_marts') then
                perform private.scope_marts();
            end if;
        end
        $scope$;
    {%- endif -%}
{% endmacro %}
