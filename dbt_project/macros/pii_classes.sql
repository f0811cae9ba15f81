{#- 由 `./run sync` 从 connectors/subsystems/*.yml 的 pii: 声明生成，请勿手改 (generated from the fields' pii declarations) -#}
{% macro pii_classes() -%}
    {{ return({"id_number": "id_number", "name": "name", "phone": "phone"}) }}
{%- endmacro %}
