{#- Write–audit–publish: the only way a staging model reads raw. Returns the latest version
    per source_key of the raw rows whose pull has no open hold in quality.holds: a version held
    back is skipped, so the previous published version of that record stays in the marts.
    incremental=true (for incremental staging tables) reads only pulls newer than the table's
    watermark, plus pulls whose hold has been released since. "Latest version" has one
    definition, landing.latest_versions (include/warehouse/ddl/015_raw_tables.sql).
    Approved, verified corrections (Annex 1; corrections.overlay, written only by the correction
    workflow) are laid over the payload here, the one place every staging model reads raw: the
    field macros then see the corrected value; raw keeps the value as landed. -#}
{% macro publishable(subsystem, resource, incremental=false) -%}
    {%- set raw_table = source('raw_' ~ subsystem, resource) -%}
    {%- set _ = source('quality', 'holds') -%}  {#- read inside; named so dbt records it -#}
    (
        select
            latest.pull_id,
            latest.fetched_at,
            latest.source_key,
            latest.payload_hash,
            latest.payload || coalesce(
                (
                    select jsonb_object_agg(fix.field, to_jsonb(fix.new_value) order by fix.item_id)
                    from {{ source('corrections', 'overlay') }} as fix
                    where
                        fix.subsystem = '{{ subsystem }}'
                        and fix.resource = '{{ resource }}'
                        and fix.source_key = latest.source_key
                ),
                '{}'::jsonb
            ) as payload
        from landing.latest_versions(
            '{{ raw_table }}',
            published_only => true
    {%- if incremental and is_incremental() %},
            after_pull => (select coalesce(max(t.pull_id), 0) from {{ this }} as t)
    {%- endif %}
        ) as latest
    )
{%- endmacro %}

{#- For incremental staging tables: keep a candidate row only when it is newer than the
    version already stored for its key (a released, older pull must not overwrite). -#}
{% macro newer_than_stored(alias) -%}
    {%- if is_incremental() -%}
        not exists (
            select 1
            from {{ this }} as stored
            where
                stored.source_key = {{ alias }}.source_key
                and (stored.fetched_at, stored.pull_id)
                >= ({{ alias }}.fetched_at, {{ alias }}.pull_id)
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
