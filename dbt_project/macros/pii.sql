{#- Personal identifiers never reach the marts in clear (access rule of the BI role). -#}

{#- 身份证号 → 430***********1234 (first three and last four kept, for eyeballing only). -#}
{% macro mask_id_number(column) -%}
    case when {{ column }} is not null then left({{ column }}, 3) || repeat('*', greatest(length({{ column }}) - 7, 0)) || right({{ column }}, 4) end
{%- endmacro %}

{#- 手机号 → 138****5678. -#}
{% macro mask_phone(column) -%}
    case when {{ column }} is not null then left({{ column }}, 3) || repeat('*', greatest(length({{ column }}) - 7, 0)) || right({{ column }}, 4) end
{%- endmacro %}

{#- Keyed SHA-256 (key from XIAOBEN_PII_KEY), so the same person joins across marts and
    systems while the number cannot be recovered by enumerating the small ID space. -#}
{% macro pii_hash(column) -%}
    case when {{ column }} is not null then encode(sha256(convert_to('{{ var("pii_key") }}' || upper({{ column }}), 'UTF8')), 'hex') end
{%- endmacro %}

{#- 达标 / 预警 / 未达标 of a value against a control point's standard and warning lines.
    Higher-is-better: >= warning line 达标, >= standard 预警, below standard 未达标;
    lower-is-better the other way round. -#}
{% macro control_point_status(value, direction, standard, warning) -%}
    case
        when {{ value }} is null then null
        when {{ direction }} = 'higher_is_better' and {{ value }} >= {{ warning }} then '达标'
        when {{ direction }} = 'higher_is_better' and {{ value }} >= {{ standard }} then '预警'
        when {{ direction }} = 'higher_is_better' then '未达标'
        when {{ value }} <= {{ warning }} then '达标'
        when {{ value }} <= {{ standard }} then '预警'
        else '未达标'
    end
{%- endmacro %}
