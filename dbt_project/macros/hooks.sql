{#- on-run-start: make sure every raw table the sources declare exists, with the landing
    interface (connectors/landing.py creates them on first landing; a subsystem that has not
    been pulled yet must not break the warehouse build, it just has no rows). -#}
{% macro ensure_raw_tables() %}
    {%- if execute -%}
        {%- for src in graph.sources.values() if src.source_name.startswith('raw_') -%}
        create schema if not exists {{ src.schema }};
            create table if not exists {{ src.schema }}.{{ src.name }} (
                pull_id bigint not null,
                fetched_at timestamptz not null,
                source_key text not null,
                payload_hash text not null,
                payload jsonb not null,
                primary key (source_key, payload_hash)
            );
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
