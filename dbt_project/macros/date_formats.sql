{#- 由 include/rules/dates.py 的 TOKENS 生成，请勿手改：改那张表后运行
    `./run sync`。Generated from include/rules/dates.py (TOKENS) by ./run sync.
    Each row: vendor token, PostgreSQL pattern, regular expression. -#}
{% macro date_tokens() -%}
    {{ return([
        ["yyyy", "YYYY", "\\d{4}"],
        ["MM", "MM", "\\d{2}"],
        ["dd", "DD", "\\d{2}"],
        ["HH", "HH24", "(?:[01]\\d|2[0-3])"],
        ["mm", "MI", "[0-5]\\d"],
        ["ss", "SS", "[0-5]\\d"]
    ]) }}
{%- endmacro %}

{% macro date_regex_specials() -%}
    {{ return('\\.^$*+?()[]{}|') }}
{%- endmacro %}
