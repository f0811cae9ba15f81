-- Courses (教务课程) with their nature, type, teaching unit and online-course building.
with

courses as (

    select * from {{ ref('stg_academic__courses') }}

),

online as (

    select distinct on (course_code)
        course_code,
        online_course_id,
        construction_level,
        status_code,
        resource_count,
        video_minutes
    from {{ ref('stg_online_teaching__courses') }}
    where course_code is not null
    order by course_code asc, updated_at desc nulls last

)

select
    courses.course_code,
    courses.course_name,
    courses.credits,
    courses.total_hours,
    courses.course_nature_code,
    courses.course_nature_name,
    courses.course_type,
    courses.org_unit_code,
    online.online_course_id,
    online.construction_level as online_construction_level,
    online.status_code = 2 as is_online_published,
    online.resource_count as online_resource_count,
    online.video_minutes as online_video_minutes,
    courses.updated_at
from courses
left join online on courses.course_code = online.course_code
