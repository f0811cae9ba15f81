-- One row per applicant: admission result and, for admitted applicants, registration
-- (新生报到) with the conformed major code.
with

applicants as (

    select * from {{ ref('stg_admissions__applicants') }}

),

enrolments as (

    select * from {{ ref('stg_admissions__enrolments') }}

),

codes as (

    select * from {{ ref('int_major_codes_conformed') }}

)

select
    applicants.applicant_id,
    applicants.province_code,
    applicants.subject_category,
    applicants.admission_batch,
    applicants.total_score,
    applicants.sex_code,
    applicants.admission_status_code,
    applicants.admission_status_code = '1' as is_admitted,
    coalesce(codes.major_code, applicants.admitted_major_code) as admitted_major_code,
    coalesce(codes.is_stale_code, false) as is_stale_major_code,
    enrolments.student_id,
    enrolments.registration_status_code,
    coalesce(enrolments.registration_status_code = '1', false) as is_registered,
    enrolments.registered_at,
    {{ pii_hash('applicants.id_number') }} as id_number_hash,
    greatest(applicants.updated_at, enrolments.updated_at) as updated_at
from applicants
left join enrolments on applicants.applicant_id = enrolments.applicant_id
left join codes on applicants.admitted_major_code = codes.reported_code
