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

    select * from {{ publishable('academic', 'grades', incremental=true) }} as raw_rows
    where {{ newer_than_stored('raw_rows') }}

),

renamed as (

    select
        ---------- ids and codes
        {{ code('xh') }} as student_id,
        {{ code('jxb_id') }} as section_id,
        {{ code('kch') }} as course_code,
        {{ code('xqm') }} as term_code,
        {{ code('ksxzdm') }} as exam_type_code,
        {{ term_id() }} as term_id,
        ---------- text
        {{ txt('xm') }} as student_name,
        {{ txt('kcmc') }} as course_name,
        {{ txt('cj') }} as score_text,
        {{ txt('ksxz') }} as exam_type_name,
        {{ txt('kcxzmc') }} as course_nature_name,
        {{ txt('cjbz') }} as remark,
        ---------- numbers
        {{ int_('xnm') }} as academic_year_start,
        {{ num('xf', 1) }} as credits,
        {{ num('jd', 2) }} as grade_point,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        correction_forms,
        current_timestamp as loaded_at,
        {{ lineage_columns() }}

    from source

)

select * from renamed
