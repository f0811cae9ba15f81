{#- Write–audit–publish: the only way a staging model reads raw. Returns the latest version
    per source_key of the raw rows whose pull has no open hold in quality.holds: a version held
    back is skipped, so the previous published version of that record stays in the marts.
    "Latest version" has one definition, landing.latest_versions
    (include/warehouse/ddl/015_raw_tables.sql).
    Approved, verified corrections (Annex 1; corrections.overlay, written only by the correction
    workflow) are laid over the payload here, the one place every staging model reads raw: the
    field macros then see the corrected value; raw keeps the value as landed. correction_forms
    lists the forms laid over a row (sorted, comma-separated text: dbt's append_new_columns
    cannot add an array column; null when none).
    incremental=true (for incremental staging tables) reads only pulls newer than the table's
    watermark, plus pulls whose hold has been released since, plus the current version of every
    key whose corrections changed since it was stored (a form verified or superseded: the
    overlay's forms for the key differ from the row's stored correction_forms). Comparing state,
    not timestamps, means a correction verified while a build runs is taken by the next one. -#}
{% macro publishable(subsystem, resource, incremental=false) -%}
    {%- set raw_table = source('raw_' ~ subsystem, resource) -%}
    {%- set _ = source('quality', 'holds') -%}  {#- read inside; named so dbt records it -#}
    {%- set incremental_now = incremental and is_incremental() -%}
    (
        select
            latest.pull_id,
            latest.fetched_at,
            latest.source_key,
            latest.payload_hash,
            latest.payload || coalesce(fix.fields, '{}'::jsonb) as payload,
            fix.form_nos as correction_forms
        from
    {%- if incremental_now %}
            (
                select new_pulls.* from landing.latest_versions(
                    '{{ raw_table }}',
                    published_only => true,
                    after_pull => (select coalesce(max(t.pull_id), 0) from {{ this }} as t)
                ) as new_pulls
        {%- if execute and corrections_changed_any(subsystem, resource) %}
                {#- a key whose corrections changed: its current version over all pulls (one row
                    per key either way; "latest" stays landing.latest_versions' rule) #}
                where new_pulls.source_key not in ({{ corrections_changed(subsystem, resource) }})
                union all
                select again.* from landing.latest_versions('{{ raw_table }}', published_only => true) as again
                where again.source_key in ({{ corrections_changed(subsystem, resource) }})
        {%- endif %}
            ) as latest
    {%- else %}
            landing.latest_versions('{{ raw_table }}', published_only => true) as latest
    {%- endif %}
        left join lateral (
            select
                jsonb_object_agg(o.field, to_jsonb(o.new_value) order by o.item_id) as fields,
                string_agg(distinct o.form_no, ',' order by o.form_no) as form_nos
            from {{ source('corrections', 'overlay') }} as o
            where
                o.subsystem = '{{ subsystem }}'
                and o.resource = '{{ resource }}'
                and o.source_key = latest.source_key
        ) as fix on true
    )
{%- endmacro %}

{#- The forms an incremental table stored per key (null on a table built before the
    column existed: every corrected key is then taken once more). -#}
{% macro stored_correction_forms(alias) -%}
    {%- if not execute -%}
        {%- set names = ['correction_forms'] -%}  {#- parsing, linting: no database to ask -#}
    {%- else -%}
        {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if 'correction_forms' in names -%}
        {{ alias }}.correction_forms
    {%- else -%}
        null::text
    {%- endif -%}
{%- endmacro %}

{#- Keys of an incremental staging table whose overlay forms differ from the stored ones. -#}
{% macro corrections_changed(subsystem, resource) -%}
    select coalesce(now_fixed.source_key, stored.source_key)
    from (
        select o.source_key, string_agg(distinct o.form_no, ',' order by o.form_no) as forms
        from {{ source('corrections', 'overlay') }} as o
        where o.subsystem = '{{ subsystem }}' and o.resource = '{{ resource }}'
        group by o.source_key
    ) as now_fixed
    full join (
        select s.source_key, {{ stored_correction_forms('s') }} as forms
        from {{ this }} as s
        where {{ stored_correction_forms('s') }} is not null
    ) as stored on now_fixed.source_key = stored.source_key
    where now_fixed.forms is distinct from stored.forms
{%- endmacro %}

{#- Whether any key changed (asked when the model runs; `execute` is false while dbt parses and
    sqlfluff lints): a normal build with no new correction reads raw exactly as before, without
    a pass over the whole raw table. -#}
{% macro corrections_changed_any(subsystem, resource) -%}
    {%- set found = run_query('select exists (' ~ corrections_changed(subsystem, resource) ~ ')') -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{#- For incremental staging tables: keep a candidate row only when it is newer than the
    version already stored for its key (a released, older pull must not overwrite), or the same
    version with other corrections laid over it. -#}
{% macro newer_than_stored(alias) -%}
    {%- if is_incremental() -%}
        not exists (
            select 1
            from {{ this }} as stored
            where
                stored.source_key = {{ alias }}.source_key
                and (
                    (stored.fetched_at, stored.pull_id) > ({{ alias }}.fetched_at, {{ alias }}.pull_id)
                    or (
                        (stored.fetched_at, stored.pull_id) = ({{ alias }}.fetched_at, {{ alias }}.pull_id)
                        and {{ stored_correction_forms('stored') }}
                        is not distinct from {{ alias }}.correction_forms
                    )
                )
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
