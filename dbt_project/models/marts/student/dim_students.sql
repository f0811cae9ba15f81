-- Students (学生), one row per 学号, with conformed 2021 major code, 学籍 status, and the
-- applicant and campus-card ids linked by 学号; 身份证号 and phone numbers only masked and as
-- keyed hashes.
with

students as (

    select * from {{ ref('int_students_conformed') }}

),

sex as (

    select * from {{ ref('gb_t_2261_1_sex') }}

),

ethnicity as (

    select * from {{ ref('gb_3304_ethnicity') }}

),

political as (

    select * from {{ ref('gb_t_4762_political_status') }}

),

catalogue as (

    select * from {{ ref('vocational_majors_2021') }}

)

select
    students.student_id,
    students.name,
    students.sex_code,
    sex.name_zh as sex_name,
    extract(year from students.birth_date)::int as birth_year,
    ethnicity.name_zh as ethnicity_name,
    political.name_zh as political_status_name,
    {{ pii_masked('students.id_number') }} as id_number_masked,
    {{ pii_hash('students.id_number') }} as id_number_hash,
    {{ pii_masked('students.phone') }} as phone_masked,
    students.grade_year,
    students.org_unit_code,
    students.major_id,
    students.major_code,
    catalogue.name_zh as major_name,
    students.reported_major_code,
    students.is_stale_major_code,
    students.class_id,
    students.status_code,
    students.status_name,
    students.is_enrolled,
    students.enrolment_date,
    left(students.origin_region_code, 2) || '0000' as origin_province_code,
    students.applicant_id,
    students.registration_status_code,
    students.card_account_id,
    students.updated_at
from students
left join sex on students.sex_code = sex.code
left join ethnicity on students.ethnicity_code = ethnicity.code
left join political on students.political_status_code = political.code
left join catalogue on students.major_code = catalogue.code
