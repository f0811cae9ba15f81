-- The college's organisation units (院系与部门) with the Table 1 department of the same unit
-- code (connectors/departments.yml `code`), its head and quality administrators.
with

units as (

    select * from {{ ref('org_units') }}

),

source_units as (

    select * from {{ ref('stg_academic__departments') }}

),

departments as (

    select * from {{ ref('registry_departments') }}

)

select
    units.code as org_unit_code,
    coalesce(source_units.org_unit_name, units.name_zh) as org_unit_name,
    source_units.short_name,
    coalesce(source_units.unit_type, units.unit_type) as unit_type,
    units.is_school,
    coalesce(source_units.is_active, true) as is_active,
    departments.department as registry_department,
    departments.head_name,
    departments.vice_president_name,
    departments.quality_administrators,
    units.dingtalk_dept_id
from units
left join source_units on units.code = source_units.org_unit_code
left join departments on units.code = departments.code
