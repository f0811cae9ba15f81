-- Teaching sections (教学班): one course taught to one class by one teacher in one term.
select
    sections.section_id,
    sections.section_name,
    sections.course_code,
    sections.course_name,
    sections.term_id,
    sections.academic_year_start,
    sections.term_code,
    sections.teacher_staff_id,
    sections.class_id,
    classes.major_code,
    classes.org_unit_code,
    classes.grade_year,
    sections.headcount,
    sections.updated_at
from {{ ref('stg_academic__sections') }} as sections
left join {{ ref('stg_academic__classes') }} as classes on sections.class_id = classes.class_id
