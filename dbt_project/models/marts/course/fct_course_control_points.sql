-- 课程质控点 entries of the online-teaching platform, linked to the 教务 course code.
select
    points.record_id,
    points.online_course_id,
    courses.course_code,
    points.term_id,
    points.point_code,
    points.point_name,
    points.target_value,
    points.actual_value,
    points.achievement_status,
    case points.achievement_status
        when 'reached' then '达成' when 'warning' then '预警' when 'not_reached' then '未达成'
    end as achievement_status_zh,
    points.filler_staff_id,
    points.updated_at
from {{ ref('stg_online_teaching__course_control_points') }} as points
left join {{ ref('stg_online_teaching__courses') }} as courses
    on points.online_course_id = courses.online_course_id
