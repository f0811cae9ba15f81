-- Per student and academic year: credits of courses failed at the first attempt and not yet
-- passed at a make-up or retake (不及格学分, the basis of 学业预警).
with

grades as (

    select
        grades.student_id,
        grades.course_code,
        grades.term_id,
        grades.exam_type_code,
        grades.credits,
        case
            when grades.score_text ~ '^\d+(\.\d+)?$' then grades.score_text::numeric >= 60
            else five_level.is_passed
        end as is_passed
    from {{ ref('stg_academic__grades') }} as grades
    left join {{ ref('five_level_grades') }} as five_level on grades.score_text = five_level.code
    where grades.term_id is not null

),

courses as (

    select
        student_id,
        course_code,
        left(min(term_id) filter (where exam_type_code = '01'), 9) as academic_year,
        max(credits) as credits,
        bool_or(is_passed) filter (where exam_type_code = '01') as passed_first,
        bool_or(is_passed) as passed_any
    from grades
    group by student_id, course_code

)

select
    student_id,
    academic_year,
    coalesce(sum(credits) filter (where not coalesce(passed_any, false)), 0) as failed_credits,
    count(*) filter (where not coalesce(passed_any, false)) as failed_courses
from courses
where academic_year is not null and passed_first is not null
group by student_id, academic_year
