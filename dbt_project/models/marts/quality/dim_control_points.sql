-- The configurable register of 质控点 (from the control_points seed) with the owning
-- department's head and quality administrators.
select
    points.code as control_point_code,
    points.level,
    points.level_zh,
    points.name_zh,
    points.definition_zh,
    points.unit,
    points.direction,
    points.target_value::numeric as target_value,
    points.standard_value::numeric as standard_value,
    points.warning_value::numeric as warning_value,
    points.frequency,
    points.due_after_days::int as due_after_days,
    points.period_type,
    points.unit_type,
    points.owner_department,
    departments.head_name as owner_head_name,
    departments.quality_administrators as owner_quality_administrators,
    points.source_subsystems,
    points.basis,
    points.is_authoritative
from {{ ref('control_points') }} as points
left join {{ ref('registry_departments') }} as departments
    on points.owner_department = departments.department
