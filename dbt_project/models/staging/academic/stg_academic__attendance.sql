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

    select * from {{ publishable('academic', 'attendance', incremental=true) }} as raw_rows
    where {{ newer_than_stored('raw_rows') }}

),

renamed as (

    select
        ---------- ids and codes
        {{ code('kq_id') }} as attendance_id,
        {{ code('xh') }} as student_id,
        {{ code('jxb_id') }} as section_id,
        {{ code('kch') }} as course_code,
        {{ code('kqlxdm') }} as attendance_type_code,
        {{ code('jlrgh') }} as recorder_staff_id,
        ---------- text
        {{ txt('jcs') }} as periods,
        {{ txt('kqlxmc') }} as attendance_type_name,
        ---------- dates
        {{ dt('kqrq', 'yyyy-MM-dd') }} as attendance_date,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        correction_forms,
        current_timestamp as loaded_at,
        {{ lineage_columns() }}

    from source

)

select * from renamed
