-- Student self-assessment questionnaire responses (学生自测问卷) with their five scores.
select
    responses.response_id,
    responses.student_id,
    responses.questionnaire_code,
    responses.questionnaire_name,
    responses.submitted_at,
    calendar.term_id,
    responses.learning_motivation_score,
    responses.major_identity_score,
    responses.social_adaptation_score,
    responses.mental_health_score,
    responses.career_planning_score,
    responses.total_score,
    responses.updated_at
from {{ ref('stg_student_development__questionnaires') }} as responses
left join {{ ref('dim_calendar') }} as calendar
    on (responses.submitted_at at time zone 'Asia/Shanghai')::date = calendar.calendar_date
