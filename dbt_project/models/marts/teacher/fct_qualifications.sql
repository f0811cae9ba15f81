-- Staff certificates (资格证书, evidence of 双师素质) and whether each is still valid.
select
    qualifications.record_id,
    qualifications.staff_id,
    qualifications.certificate_type,
    qualifications.certificate_name,
    qualifications.issuing_body,
    qualifications.obtained_date,
    qualifications.valid_until,
    qualifications.valid_until is null or qualifications.valid_until >= current_date as is_valid,
    qualifications.updated_at
from {{ ref('stg_teacher_development__qualifications') }} as qualifications
