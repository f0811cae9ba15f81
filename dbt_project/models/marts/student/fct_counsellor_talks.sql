-- Counsellor talks with students (辅导员谈心谈话) and the concern level recorded.
select
    talks.record_id,
    talks.counsellor_staff_id,
    talks.student_id,
    talks.talk_date,
    talks.talk_type,
    talks.concern_level,
    talks.concern_level = '重点关注' as is_key_concern,
    talks.updated_at
from {{ ref('stg_student_development__counsellor_records') }} as talks
