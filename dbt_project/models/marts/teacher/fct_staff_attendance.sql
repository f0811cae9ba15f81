{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['staff_id', 'work_date']}],
    )
}}
-- DingTalk punch results (钉钉考勤) linked to 工号 through the DingTalk user; results added
-- later by an approved 补卡 arrive as new rows. Incremental on the staging load time.
with

attendance as (

    select * from {{ ref('stg_dingtalk__attendance') }}
    {% if is_incremental() -%}
        where loaded_at > (select coalesce(max(t.loaded_at), '-infinity') from {{ this }} as t)
    {%- endif %}

),

users as (

    select
        user_id,
        staff_id
    from {{ ref('stg_dingtalk__users') }}

)

select
    attendance.punch_result_id,
    attendance.user_id as dingtalk_user_id,
    users.staff_id,
    attendance.work_date,
    attendance.check_type,
    attendance.time_result,
    attendance.time_result = 'Normal' as is_normal,
    attendance.location_result,
    attendance.scheduled_check_at,
    attendance.checked_at,
    attendance.source_type,
    attendance.source_type = 'APPROVE' as is_from_approval,
    attendance.loaded_at,
    attendance.source_key
from attendance
left join users on attendance.user_id = users.user_id
