{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['loaded_at']}],
    )
}}

with

source as (

    select * from {{ publishable('dingtalk', 'attendance', incremental=true) }} as raw_rows
    where {{ newer_than_stored('raw_rows') }}

),

renamed as (

    select
        ---------- ids and codes
        {{ code('userId') }} as user_id,
        {{ code('checkType') }} as check_type,
        {{ code('timeResult') }} as time_result,
        {{ code('locationResult') }} as location_result,
        {{ code('sourceType') }} as source_type,
        {{ code('procInstId') }} as approval_instance_id,
        ---------- numbers
        {{ int_('id') }} as punch_result_id,
        {{ int_('groupId') }} as attendance_group_id,
        {{ int_('planId') }} as plan_id,
        {{ int_('recordId') }} as record_id,
        ---------- dates
        {{ dt('workDate', 'epoch_ms') }} as work_date,
        ---------- timestamps
        {{ ts('baseCheckTime', 'epoch_ms') }} as scheduled_check_at,
        {{ ts('userCheckTime', 'epoch_ms') }} as checked_at,
        ---------- lineage
        correction_forms,
        current_timestamp as loaded_at,
        {{ lineage_columns() }}

    from source

)

select * from renamed
