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

{#- Dates and instants, in the subsystem files' own notation (`format:` of a field):
    yyyy-MM-dd HH:mm:ss, yyyyMMdd, yyyy-MM-ddTHH:mm:ss … (the tokens are the table
    include/rules/dates.py generates into date_formats.sql), iso (ISO 8601, with or without
    offset) or epoch_ms. Naive values are Asia/Shanghai wall-clock time. A value not in the
    format becomes null; an impossible date (20260230) in the format fails the build. -#}
{% macro date_format(fmt) -%}
    {%- set ns = namespace(pg=fmt | replace('T', '"T"'), rx=fmt | replace('\\', '\\\\')) -%}
    {%- for c in date_regex_specials() if c != '\\' -%}
        {%- set ns.rx = ns.rx | replace(c, '\\' ~ c) -%}
    {%- endfor -%}
    {%- for token, pg, rx in date_tokens() -%}
        {%- set ns.pg = ns.pg | replace(token, pg) -%}
        {%- set ns.rx = ns.rx | replace(token, rx) -%}
    {%- endfor -%}
    {{ return({'pg': ns.pg, 'regex': '^' ~ ns.rx ~ '$'}) }}
{%- endmacro %}

{#- An instant, returned as timestamptz. -#}
{% macro ts(field, fmt) -%}
    {%- set v = "btrim(payload ->> '" ~ field ~ "')" -%}
    {%- if fmt == 'epoch_ms' -%}
        (case when {{ v }} ~ '^\d{1,16}$' then to_timestamp(({{ v }})::bigint / 1000.0) end)
    {%- elif fmt == 'iso' -%}
        (
            case
                when {{ v }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*(Z|[+-]\d{2}(:?\d{2})?)$'
                    then ({{ v }})::timestamptz
                when {{ v }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}'
                    then ({{ v }})::timestamp at time zone 'Asia/Shanghai'
            end
        )
    {%- elif 'yyyy' in fmt -%}
        {%- set f = date_format(fmt) -%}
        (
            case
                when {{ v }} ~ '{{ f.regex }}'
                    then to_timestamp({{ v }}, '{{ f.pg }}')::timestamp at time zone 'Asia/Shanghai'
            end
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("ts(): unknown date format '" ~ fmt ~ "' for field " ~ field ~ "; use the subsystem file's format (yyyy-MM-dd HH:mm:ss …), iso or epoch_ms") }}
    {%- endif -%}
{%- endmacro %}

{#- A calendar date, returned as date (the Asia/Shanghai day of an instant). -#}
{% macro dt(field, fmt) -%}
    {%- set v = "btrim(payload ->> '" ~ field ~ "')" -%}
    {%- if fmt in ('epoch_ms', 'iso') -%}
        ({{ ts(field, fmt) }} at time zone 'Asia/Shanghai')::date
    {%- elif 'yyyy' in fmt -%}
        {%- set f = date_format(fmt) -%}
        (case when {{ v }} ~ '{{ f.regex }}' then to_date({{ v }}, '{{ f.pg }}') end)
    {%- else -%}
        {{ exceptions.raise_compiler_error("dt(): unknown date format '" ~ fmt ~ "' for field " ~ field ~ "; use the subsystem file's format (yyyyMMdd, yyyy-MM-dd …), iso or epoch_ms") }}
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
