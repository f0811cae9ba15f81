-- Per teaching section and student: classes scheduled so far and 旷课 recorded, the two
-- terms of 到课率 (attendance only records exceptions, so the expected count comes from the
-- timetable and the students 在读 in the section's class).
with

sessions as (

    select
        section_id,
        term_id,
        count(*) as sessions
    from {{ ref('int_class_sessions_scheduled') }}
    group by section_id, term_id

),

sections as (

    select
        section_id,
        course_code,
        class_id
    from {{ ref('stg_academic__sections') }}

),

class_students as (

    select
        class_id,
        student_id
    from {{ ref('int_students_conformed') }}
    where status_code = '01'

),

absences as (

    select
        attendance.section_id,
        attendance.student_id,
        count(*) as absences
    from {{ ref('stg_academic__attendance') }} as attendance
    inner join {{ ref('class_attendance_types') }} as types
        on attendance.attendance_type_code = types.code
    where types.is_absence
    group by attendance.section_id, attendance.student_id

)

select
    sessions.term_id,
    sections.section_id,
    sections.course_code,
    sections.class_id,
    class_students.student_id,
    sessions.sessions as expected,
    coalesce(absences.absences, 0) as absences
from sessions
inner join sections on sessions.section_id = sections.section_id
inner join class_students on sections.class_id = class_students.class_id
left join absences
    on sections.section_id = absences.section_id and class_students.student_id = absences.student_id
