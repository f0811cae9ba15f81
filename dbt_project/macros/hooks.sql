{#- on-run-start: make sure every raw table the sources declare exists (a subsystem that has
    not been pulled yet must not break the warehouse build, it just has no rows). The table's
    one definition is landing.ensure_raw_table (include/warehouse/ddl/015_raw_tables.sql),
    which landing uses too. -#}
{% macro ensure_raw_tables() %}
    {%- if execute -%}
        {%- for src in graph.sources.values() if src.source_name.startswith('raw_') -%}
        select landing.ensure_raw_table('{{ src.schema }}', '{{ src.name }}');
        {% endfor -%}
    {%- endif -%}
{% endmacro %}

{#- Row-level security of the marts, which every build recreates: each mart's
    `department_scope` (config.meta in its yml: a condition over its columns, or whole_school)
    goes to private.scope_marts() (include/warehouse/ddl/005_private.sql), which puts the policy
    in place and then grants the mart to the department roles. -#}
{% macro scope_department_marts() %}
    {%- if execute -%}
        {%- set scopes = {} -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('department_scope') -%}
            {%- do scopes.update({node.schema ~ '.' ~ node.alias: node.config.meta['department_scope']}) -%}
        {%- endfor %}
        do $scope$
        begin
            if to_regprocedure('private.scope_marts(jsonb)') is not null then
                perform private.scope_marts($json${{ tojson(scopes) }}$json$::jsonb);
            end if;
        end
        $scope$;
    {%- endif -%}
{% endmacro %}
