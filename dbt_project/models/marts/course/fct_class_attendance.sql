{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['section_id', 'attendance_date']}],
    )
}}
-- Classroom attendance exceptions (迟到、早退、旷课、请假); a leave approved later turns
-- 旷课 into 事假/病假 in place (current version). Incremental on the staging load time.
with

attendance as (

    select * from {{ ref('stg_academic__attendance') }}
    {% if is_incremental() -%}
        where loaded_at > (select coalesce(max(t.loaded_at), '-infinity') from {{ this }} as t)
    {%- endif %}

),

types as (

    select * from {{ ref('class_attendance_types') }}

)

select
    attendance.attendance_id,
    attendance.student_id,
    attendance.section_id,
    attendance.course_code,
    attendance.attendance_date,
    attendance.periods,
    attendance.attendance_type_code,
    coalesce(attendance.attendance_type_name, types.name_zh) as attendance_type_name,
    coalesce(types.is_absence, false) as is_absence,
    coalesce(types.is_leave, false) as is_leave,
    coalesce(types.is_late_or_early, false) as is_late_or_early,
    attendance.recorder_staff_id,
    attendance.updated_at,
    attendance.loaded_at,
    attendance.source_key
from attendance
left join types on attendance.attendance_type_code = types.code
