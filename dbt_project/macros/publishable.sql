{#- Write–audit–publish: the only way a staging model reads raw. Returns a subquery of the
    raw rows whose pull has no open hold in quality.holds, reduced to the latest version per
    source_key (fetched_at desc, pull_id desc) unless latest=false. A version held back is
    skipped, so the previous published version of that record stays in the marts.
    incremental=true (for incremental staging tables) reads only pulls newer than the
    table's watermark, plus pulls whose hold has been released since.
    Approved, verified corrections (Annex 1; corrections.overlay, written only by the correction
    workflow) are laid over the payload here, the one place every staging model reads raw: the
    field macros then see the corrected value; raw keeps the value as landed. -#}
{% macro publishable(subsystem, resource, latest=true, incremental=false) -%}
    (
        select {% if latest %}distinct on (raw.source_key){% endif %}
            raw.pull_id,
            raw.fetched_at,
            raw.source_key,
            raw.payload_hash,
            raw.payload || coalesce(
                (
                    select jsonb_object_agg(fix.field, to_jsonb(fix.new_value) order by fix.item_id)
                    from {{ source('corrections', 'overlay') }} as fix
                    where
                        fix.subsystem = '{{ subsystem }}'
                        and fix.resource = '{{ resource }}'
                        and fix.source_key = raw.source_key
                ),
                '{}'::jsonb
            ) as payload
        from {{ source('raw_' ~ subsystem, resource) }} as raw
        where
            not exists (
                select 1
                from {{ source('quality', 'holds') }} as hold
                where hold.pull_id = raw.pull_id and hold.released_at is null
            )
    {%- if incremental and is_incremental() %}
                and (
                    raw.pull_id > (select coalesce(max(t.pull_id), 0) from {{ this }} as t)
                    or raw.pull_id in (
                        select released.pull_id
                        from {{ source('quality', 'holds') }} as released
                        where released.released_at is not null
                    )
                    or raw.source_key in (
                        select fix.source_key
                        from {{ source('corrections', 'overlay') }} as fix
                        where fix.subsystem = '{{ subsystem }}' and fix.resource = '{{ resource }}'
                    )
                )
    {%- endif %}
    {%- if latest %}
            order by raw.source_key asc, raw.fetched_at desc, raw.pull_id desc
    {%- endif %}
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
