-- Per teaching section and student: classes held so far and 旷课 recorded, the two terms of
-- 到课率 (attendance only records exceptions, so the expected count comes from the timetable
-- and the students 在读 in the section's class). A class the teacher recorded attendance for
-- on a day the timetable does not schedule (调课, or a timetable that was never updated) was
-- held all the same: it counts as a session, so its absences are never dropped from the rate.
-- The check reference__attendance_on_scheduled_session (soda/cross_checks.yml) flags those
-- days so 教务处 can correct the timetable or the record.
with

scheduled as (

    select
        section_id,
        term_id,
        session_date
    from {{ ref('int_class_sessions_scheduled') }}

),

sections as (

    select
        section_id,
        term_id,
        course_code,
        class_id
    from {{ ref('stg_academic__sections') }}

),

unscheduled as (

    select distinct
        attendance.section_id,
        sections.term_id,
        attendance.attendance_date as session_date
    from {{ ref('stg_academic__attendance') }} as attendance
    inner join sections on attendance.section_id = sections.section_id
    where
        sections.term_id is not null
        and not exists (
            select 1 from scheduled
            where
                scheduled.section_id = attendance.section_id
                and scheduled.session_date = attendance.attendance_date
        )

),

sessions as (

    select
        section_id,
        term_id,
        count(*) as sessions
    from (
        select
            section_id,
            term_id
        from scheduled
        union all
        select
            section_id,
            term_id
        from unscheduled
    ) as held
    group by section_id, term_id

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
