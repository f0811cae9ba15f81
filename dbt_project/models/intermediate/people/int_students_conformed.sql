-- One row per student (学号, the college-wide student id), with the ids the same person has
-- in other systems when they are linked by an identifier (学号 or 身份证号), never by name.
with

students as (

    select * from {{ ref('stg_academic__students') }}

),

status as (

    select * from {{ ref('student_status') }}

),

majors as (

    select * from {{ ref('int_major_codes_conformed') }}

),

enrolments as (

    select distinct on (student_id)
        student_id,
        applicant_id,
        registration_status_code,
        registered_at
    from {{ ref('stg_admissions__enrolments') }}
    where student_id is not null
    order by student_id asc, updated_at desc nulls last

),

card_accounts as (

    select distinct on (person_number)
        person_number,
        account_id,
        card_number
    from {{ ref('stg_campus_card__accounts') }}
    where customer_type_code = '1' and person_number is not null
    order by person_number asc, (card_status_code = '1') desc, opened_date desc nulls last

)

select
    students.student_id,
    students.name,
    students.sex_code,
    students.birth_date,
    students.ethnicity_code,
    students.political_status_code,
    students.id_number,
    students.phone,
    students.grade_year,
    students.org_unit_code,
    students.major_id,
    students.major_code as reported_major_code,
    majors.major_code,
    coalesce(majors.is_stale_code, false) as is_stale_major_code,
    students.class_id,
    students.status_code,
    coalesce(students.status_name, status.name_zh) as status_name,
    coalesce(status.is_enrolled, false) as is_enrolled,
    students.enrolment_date,
    students.origin_region_code,
    enrolments.applicant_id,
    enrolments.registration_status_code,
    enrolments.registered_at,
    card_accounts.account_id as card_account_id,
    card_accounts.card_number,
    students.updated_at
from students
left join status on students.status_code = status.code
left join majors on students.major_code = majors.reported_code
left join enrolments on students.student_id = enrolments.student_id
left join card_accounts on students.student_id = card_accounts.person_number
