{#- Schemas are exactly staging / intermediate / marts / snapshots / seeds, never
    <target>_<custom>, so BI grants and documentation name stable schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
