-- Staff training records (培训) with hours, per academic year of the start date.
select
    trainings.record_id,
    trainings.staff_id,
    trainings.training_name,
    trainings.training_type,
    trainings.organiser,
    trainings.start_date,
    trainings.end_date,
    calendar.academic_year,
    trainings.hours,
    trainings.updated_at
from {{ ref('stg_teacher_development__trainings') }} as trainings
left join {{ ref('dim_calendar') }} as calendar on trainings.start_date = calendar.calendar_date
