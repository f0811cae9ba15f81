{#- Field extraction from the landed JSON payload. Every macro maps "" and JSON null (and
    an absent key) to SQL null, and casts only values that have the expected shape: a value
    of the wrong shape becomes null and is caught by the not_null / accepted_values tests
    instead of failing the whole build. -#}

{% macro txt(field) -%}
    nullif(payload ->> '{{ field }}', '')
{%- endmacro %}

{% macro code(field) -%}
    nullif(btrim(payload ->> '{{ field }}'), '')
{%- endmacro %}

{% macro int_(field) -%}
    (case when btrim(payload ->> '{{ field }}') ~ '^-?[0-9]{1,18}$' then (payload ->> '{{ field }}')::bigint end)
{%- endmacro %}

{% macro num(field, scale=2) -%}
    (
        case
            when btrim(payload ->> '{{ field }}') ~ '^-?[0-9]+(\.[0-9]+)?$'
                then round((payload ->> '{{ field }}')::numeric, {{ scale }})
        end
    )
{%- endmacro %}

{% macro flag(field, true_value='1', false_value='0') -%}
    (
        case
            when payload ->> '{{ field }}' in ('{{ true_value }}', 'true') then true
            when payload ->> '{{ field }}' in ('{{ false_value }}', 'false') then false
        end
    )
{%- endmacro %}

{#- Money, always returned in 元 (yuan) as numeric(16, 2). unit: fen | yuan | wan_yuan. -#}
{% macro yuan(field, unit) -%}
    {%- if unit == 'fen' -%}
        ({{ int_(field) }} / 100.0)::numeric(16, 2)
    {%- elif unit == 'wan_yuan' -%}
        ({{ num(field, 6) }} * 10000)::numeric(16, 2)
    {%- elif unit == 'yuan' -%}
        ({{ num(field, 2) }})::numeric(16, 2)
    {%- else -%}
        {{ exceptions.raise_compiler_error("yuan(): unknown money unit '" ~ unit ~ "' for field " ~ field ~ "; use fen, yuan or wan_yuan") }}
    {%- endif -%}
{%- endmacro %}

{#- Instants, always timestamptz. Naive source values are Asia/Shanghai wall-clock time.
    style: datetime (yyyy-MM-dd HH:mm:ss) | iso_local (yyyy-MM-ddTHH:mm:ss) | iso_offset
    (with +08:00) | compact (YYYYMMDDHHMMSS) | epoch_ms. -#}
{% macro ts(field, style) -%}
    {%- set v = "btrim(payload ->> '" ~ field ~ "')" -%}
    {%- if style in ('datetime', 'iso_local') -%}
        (
            case
                when {{ v }} ~ '^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$'
                    then ({{ v }})::timestamp at time zone 'Asia/Shanghai'
            end
        )
    {%- elif style == 'iso_offset' -%}
        (case when {{ v }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}' then ({{ v }})::timestamptz end)
    {%- elif style == 'compact' -%}
        (
            case
                when {{ v }} ~ '^\d{14}$'
                    then
                        (
                            substr({{ v }}, 1, 8) || 'T' || substr({{ v }}, 9, 6)
                        )::timestamp at time zone 'Asia/Shanghai'
            end
        )
    {%- elif style == 'epoch_ms' -%}
        (case when {{ v }} ~ '^\d{1,16}$' then to_timestamp(({{ v }})::bigint / 1000.0) end)
    {%- else -%}
        {{ exceptions.raise_compiler_error("ts(): unknown time style '" ~ style ~ "' for field " ~ field) }}
    {%- endif -%}
{%- endmacro %}

{#- Calendar dates, returned as date. style: ymd (yyyyMMdd) | iso (yyyy-MM-dd) |
    epoch_ms_local (epoch ms of 00:00 Asia/Shanghai). An impossible date becomes null. -#}
{% macro dt(field, style='ymd') -%}
    {%- set v = "btrim(payload ->> '" ~ field ~ "')" -%}
    {%- if style == 'ymd' -%}
        (case when {{ v }} ~ '^\d{8}$' and to_char(to_date({{ v }}, 'YYYYMMDD'), 'YYYYMMDD') = {{ v }} then to_date({{ v }}, 'YYYYMMDD') end)
    {%- elif style == 'iso' -%}
        (case when {{ v }} ~ '^\d{4}-\d{2}-\d{2}$' and to_char(to_date({{ v }}, 'YYYY-MM-DD'), 'YYYY-MM-DD') = {{ v }} then to_date({{ v }}, 'YYYY-MM-DD') end)
    {%- elif style == 'epoch_ms_local' -%}
        (case when {{ v }} ~ '^\d{1,16}$' then (to_timestamp(({{ v }})::bigint / 1000.0) at time zone 'Asia/Shanghai')::date end)
    {%- else -%}
        {{ exceptions.raise_compiler_error("dt(): unknown date style '" ~ style ~ "' for field " ~ field) }}
    {%- endif -%}
{%- endmacro %}

{#- The lineage columns every staging model ends with (原始性: each row traces back to its
    source record and pull). -#}
{% macro lineage_columns() -%}
    source_key,
    pull_id,
    fetched_at,
    payload_hash
{%- endmacro %}

{#- A JSON sub-document kept as jsonb (arrays, form values). -#}
{% macro jsonb_field(field) -%}
    nullif(payload -> '{{ field }}', 'null'::jsonb)
{%- endmacro %}

{#- A list of ids that vendors send either as a JSON array or as a comma-separated string;
    always returned as text[] (DingTalk approver_userids does both). -#}
{% macro text_array(field) -%}
    (
        case jsonb_typeof(payload -> '{{ field }}')
            when 'array' then array(select jsonb_array_elements_text(payload -> '{{ field }}'))
            when 'string' then string_to_array(nullif(payload ->> '{{ field }}', ''), ',')
        end
    )
{%- endmacro %}

{#- 学期 id such as 2026-2027-1 from 正方 xnm (first year) and xqm (3 = first, 12 = second). -#}
{% macro term_id(year_field='xnm', term_field='xqm') -%}
    (
        case
            when payload ->> '{{ year_field }}' ~ '^\d{4}$' and payload ->> '{{ term_field }}' in ('3', '12')
                then
                    (payload ->> '{{ year_field }}') || '-' || ((payload ->> '{{ year_field }}')::int + 1)::text
                    || '-' || case payload ->> '{{ term_field }}' when '3' then '1' else '2' end
        end
    )
{%- endmacro %}
