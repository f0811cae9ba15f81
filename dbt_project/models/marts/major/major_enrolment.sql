-- Students per major, grade and 学籍 status (the current version of every student record);
-- 在校生 = statuses flagged is_enrolled in the student_status seed.
select
    students.major_code,
    students.org_unit_code,
    students.grade_year,
    students.status_code,
    students.status_name,
    students.is_enrolled,
    count(*) as student_count
from {{ ref('int_students_conformed') }} as students
group by 1, 2, 3, 4, 5, 6
