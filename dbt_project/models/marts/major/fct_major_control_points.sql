-- 专业群质控点 entries filed on the major-development platform, with their review state.
select
    points.record_id,
    points.cluster_code,
    points.major_code,
    points.point_code,
    points.point_name,
    points.academic_year,
    points.target_value,
    points.actual_value,
    points.achievement_status,
    points.review_status_code,
    case points.review_status_code when '0' then '待审核' when '1' then '通过' when '2' then '退回' end as review_status,
    points.filler_staff_id,
    points.filled_at,
    points.updated_at
from {{ ref('stg_major_development__control_points') }} as points
