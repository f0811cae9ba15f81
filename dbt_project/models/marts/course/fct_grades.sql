{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['term_id', 'course_code']}],
    )
}}
-- One row per grade (student × section × exam type, current version); five-level grades of
-- C-type courses are converted with the five_level_grades seed. Incremental: only staging
-- rows loaded since the last build are merged.
with

grades as (

    select * from {{ ref('stg_academic__grades') }}
    {% if is_incremental() -%}
        where loaded_at > (select coalesce(max(t.loaded_at), '-infinity') from {{ this }} as t)
    {%- endif %}

),

five_level as (

    select * from {{ ref('five_level_grades') }}

),

exam_types as (

    select * from {{ ref('exam_types') }}

)

select
    grades.student_id,
    grades.section_id,
    grades.course_code,
    grades.term_id,
    grades.exam_type_code,
    coalesce(grades.exam_type_name, exam_types.name_zh) as exam_type_name,
    coalesce(exam_types.is_first_attempt, grades.exam_type_code = '01') as is_first_attempt,
    grades.credits,
    grades.score_text,
    case
        when grades.score_text ~ '^\d+(\.\d+)?$' then grades.score_text::numeric
        else five_level.score_equivalent
    end as score,
    case
        when grades.score_text ~ '^\d+(\.\d+)?$' then grades.score_text::numeric >= 60
        else five_level.is_passed
    end as is_passed,
    grades.grade_point,
    grades.remark,
    coalesce(grades.remark = '缺考', false) as is_absent_from_exam,
    grades.course_nature_name,
    grades.updated_at,
    grades.loaded_at,
    grades.source_key
from grades
left join five_level on grades.score_text = five_level.code
left join exam_types on grades.exam_type_code = exam_types.code
