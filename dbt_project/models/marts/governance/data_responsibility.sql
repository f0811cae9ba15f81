-- Who is responsible for each mart and staging table and column: built from the dbt graph
-- (every mart and staging model, its group, its meta.subsystems, column-level overrides) and
-- the registry seeds generated from connectors/ (Table 1 and the department roster). One row
-- per table or column and source subsystem; column_name is null for the table itself. A new
-- subsystem file appears here through its generated staging models (`./run sync`).
{%- set rows = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name
        and node.config.schema in ('marts', 'staging') -%}
        {%- set table_subsystems = node.config.meta.get('subsystems', []) -%}
        {%- for subsystem in table_subsystems -%}
            {%- do rows.append([node.config.schema, node.name, none, node.description, node.config.group, node.fqn[2], subsystem]) -%}
        {%- endfor -%}
        {%- for column in node.columns.values() -%}
            {%- set column_meta = column.get('config', {}).get('meta', {}) or column.get('meta', {}) -%}
            {%- for subsystem in column_meta.get('subsystems', table_subsystems) -%}
                {%- do rows.append([node.config.schema, node.name, column.name, column.description, node.config.group, node.fqn[2], subsystem]) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

with

documented as (

    {% if rows -%}
        select *
        from (
            values
            {%- for row in rows %}
                (
                    {%- for value in row -%}
                        {%- if value is none %}null::text{% else %}'{{ value | replace("'", "''") }}'{% endif -%}
                        {{- ", " if not loop.last -}}
                    {%- endfor -%}
                ){{ "," if not loop.last }}
            {%- endfor %}
        ) as documented (table_schema, table_name, column_name, description, dbt_group, layer, subsystem_id)
    {%- else -%}
        select
            null::text as table_schema,
            null::text as table_name,
            null::text as column_name,
            null::text as description,
            null::text as dbt_group,
            null::text as layer,
            null::text as subsystem_id
        where false
    {%- endif %}

),

people as (

    select * from {{ ref('registry_people') }}

),

per_subsystem as (

    select
        subsystem_id,
        string_agg(distinct coalesce(name, '') || case when name is null then duty else '（' || duty || '）' end, '、')
            filter (where role = 'collector') as collectors,
        string_agg(distinct department, '、') filter (where role = 'organising_department') as organising_departments,
        string_agg(distinct department, '、') filter (where role = 'managing_department') as managing_departments,
        string_agg(distinct department || ' ' || name, '、')
            filter (where role = 'managing_department' and duty = '部门负责人') as managing_department_heads,
        string_agg(distinct department || ' ' || name, '、')
            filter (where duty like '质量管理员%') as quality_administrators,
        string_agg(distinct name, '、')
            filter (where role = 'managing_department' and duty like '%副%') as vice_presidents,
        string_agg(distinct email, ';')
            filter (where role = 'managing_department' and duty like '质量管理员%') as contact_emails
    from people
    group by subsystem_id

)

select
    documented.table_schema,
    documented.table_name,
    documented.column_name,
    documented.description,
    documented.layer,
    documented.dbt_group,
    groups.head_name as dbt_group_owner,
    documented.subsystem_id,
    subsystems.name_zh as subsystem_name,
    per_subsystem.collectors,
    per_subsystem.organising_departments,
    per_subsystem.managing_departments,
    per_subsystem.managing_department_heads,
    per_subsystem.quality_administrators,
    per_subsystem.vice_presidents,
    per_subsystem.contact_emails
from documented
left join {{ ref('registry_subsystems') }} as subsystems on documented.subsystem_id = subsystems.subsystem_id
left join per_subsystem on documented.subsystem_id = per_subsystem.subsystem_id
left join {{ ref('registry_departments') }} as groups on documented.dbt_group = groups.department
