-- The value of every 质控点 per period and unit, with its status against the configured
-- lines (达标 / 预警 / 未达标, see macro control_point_status). One CTE per control point;
-- a new point is one seed row plus one CTE here.
with

as_of as (

    select
        coalesce(
            (select max(updated_at) from {{ ref('stg_academic__students') }}),
            current_timestamp
        ) at time zone 'Asia/Shanghai' as as_of_time

),

current_year as (

    select calendar.academic_year
    from {{ ref('dim_calendar') }} as calendar
    cross join as_of
    where calendar.calendar_date = as_of.as_of_time::date

),

students as (

    select count(*) filter (where is_enrolled) as enrolled
    from {{ ref('int_students_conformed') }}

),

teachers as (

    select
        count(*) as teachers,
        count(*) filter (where is_dual_qualified) as dual_qualified,
        count(*) filter (where has_postgraduate_education) as postgraduate
    from {{ ref('int_staff_conformed') }}
    where is_active and is_full_time_teacher

),

base_data as (

    select
        academic_year,
        max(indicator_value) filter (where indicator_name = '纸质图书') as paper_books,
        max(indicator_value) filter (where indicator_name = '教学科研及辅助用房面积') as teaching_area,
        max(indicator_value) filter (where indicator_name = '全日制在校生数') as enrolled
    from {{ ref('fct_school_base_data') }}
    group by academic_year

),

training_years as (

    select academic_year from current_year
    union
    select academic_year from {{ ref('fct_trainings') }}
    where academic_year is not null

),

latest_responses as (

    select distinct on (student_id, term_id)
        student_id,
        term_id,
        total_score
    from {{ ref('fct_questionnaires') }}
    where term_id is not null and total_score is not null
    order by student_id asc, term_id asc, submitted_at desc

),

school_values as (

    select
        'SCH01' as code,
        students.enrolled::numeric as numerator,
        teachers.teachers::numeric as denominator,
        1 as scale
    from students cross join teachers
    union all
    select
        'SCH02',
        teachers.dual_qualified,
        teachers.teachers,
        100
    from teachers
    union all
    select
        'SCH03',
        teachers.postgraduate,
        teachers.teachers,
        100
    from teachers
    union all
    select
        'SCH04',
        (
            select coalesce(sum(assets.amount_yuan), 0) from {{ ref('fct_assets') }} as assets
            where assets.counts_as_teaching_equipment
        ),
        students.enrolled,
        1
    from students

),

values_all as (

    select
        school_values.code as control_point_code,
        current_year.academic_year as period_id,
        'school' as unit_type,
        'school' as unit_id,
        null::text as org_unit_code,
        school_values.numerator,
        school_values.denominator,
        round(school_values.numerator / nullif(school_values.denominator, 0) * school_values.scale, 4) as value
    from school_values cross join current_year

    union all
    select
        'SCH05',
        academic_year,
        'school',
        'school',
        null,
        paper_books,
        enrolled,
        round(paper_books / nullif(enrolled, 0), 4)
    from base_data
    where paper_books is not null
    union all
    select
        'SCH06',
        academic_year,
        'school',
        'school',
        null,
        teaching_area,
        enrolled,
        round(teaching_area / nullif(enrolled, 0), 4)
    from base_data
    where teaching_area is not null
    union all
    select
        'SCH07',
        budget_year::text,
        'budget_item',
        budget_item_id,
        org_unit_code,
        committed_yuan,
        budget_yuan,
        round(committed_yuan / budget_yuan * 100, 4)
    from {{ ref('fct_budget_execution') }}
    where budget_yuan > 0 and budget_year is not null

    ---------- major level
    union all
    select
        'MAJ01',
        (graduation_year - 1)::text || '-' || graduation_year::text,
        'major',
        major_code,
        null,
        placed,
        graduates,
        round(placement_rate * 100, 4)
    from {{ ref('major_employment') }}
    where is_graduated
    union all
    select
        'MAJ02',
        (graduation_year - 1)::text || '-' || graduation_year::text,
        'major',
        major_code,
        null,
        major_related,
        employed,
        round(major_related_rate * 100, 4)
    from {{ ref('major_employment') }}
    where is_graduated and employed > 0
    union all
    select
        'MAJ03',
        calendar.academic_year,
        'major',
        admissions.admitted_major_code,
        null,
        count(*) filter (where admissions.is_registered),
        count(*),
        round(count(*) filter (where admissions.is_registered)::numeric / nullif(count(*), 0) * 100, 4)
    from {{ ref('fct_admissions') }} as admissions
    cross join current_year as calendar
    where admissions.is_admitted
    group by calendar.academic_year, admissions.admitted_major_code
    union all
    select
        'MAJ04',
        academic_year,
        'major_cluster',
        cluster_code,
        null,
        count(*) filter (where achievement_status = '达成'),
        count(*),
        round(count(*) filter (where achievement_status = '达成')::numeric / nullif(count(*), 0) * 100, 4)
    from {{ ref('fct_major_control_points') }}
    where review_status_code = '1'
    group by academic_year, cluster_code

    ---------- course level
    union all
    select
        'CRS01',
        term_id,
        'course',
        course_code,
        null,
        count(*) filter (where is_passed),
        count(*),
        round(count(*) filter (where is_passed)::numeric / nullif(count(*), 0) * 100, 4)
    from {{ ref('fct_grades') }}
    where is_first_attempt and term_id is not null
    group by term_id, course_code
    union all
    select
        'CRS02',
        term_id,
        'course',
        course_code,
        null,
        sum(expected) - sum(absences),
        sum(expected),
        round((sum(expected) - sum(absences))::numeric / nullif(sum(expected), 0) * 100, 4)
    from {{ ref('int_section_attendance_summarised') }}
    group by term_id, course_code
    union all
    select
        'CRS03',
        term_id,
        'course',
        course_code,
        null,
        count(*) filter (where achievement_status = 'reached'),
        count(*),
        round(count(*) filter (where achievement_status = 'reached')::numeric / nullif(count(*), 0) * 100, 4)
    from {{ ref('fct_course_control_points') }}
    where course_code is not null and term_id is not null
    group by term_id, course_code

    ---------- teacher level
    union all
    select
        'TCH01',
        years.academic_year,
        'staff',
        staff.staff_id,
        staff.org_unit_code,
        coalesce(sum(trainings.hours), 0),
        null,
        coalesce(sum(trainings.hours), 0)
    from {{ ref('int_staff_conformed') }} as staff
    cross join training_years as years
    left join {{ ref('fct_trainings') }} as trainings
        on staff.staff_id = trainings.staff_id and years.academic_year = trainings.academic_year
    where staff.is_active and staff.is_full_time_teacher
    group by years.academic_year, staff.staff_id, staff.org_unit_code
    union all
    select
        'TCH02',
        to_char(attendance.work_date, 'YYYY-MM'),
        'staff',
        attendance.staff_id,
        null,
        count(*) filter (where attendance.is_normal),
        count(*),
        round(count(*) filter (where attendance.is_normal)::numeric / nullif(count(*), 0) * 100, 4)
    from {{ ref('fct_staff_attendance') }} as attendance
    where attendance.staff_id is not null
    group by to_char(attendance.work_date, 'YYYY-MM'), attendance.staff_id

    ---------- student level
    union all
    select
        'STU01',
        academic_year,
        'student',
        student_id,
        null,
        failed_credits as numerator,
        null as denominator,
        failed_credits as value
    from {{ ref('int_student_credits_failed') }}
    union all
    select
        'STU02',
        term_id,
        'student',
        student_id,
        null,
        sum(expected) - sum(absences),
        sum(expected),
        round((sum(expected) - sum(absences))::numeric / nullif(sum(expected), 0) * 100, 4)
    from {{ ref('int_section_attendance_summarised') }}
    group by term_id, student_id
    union all
    select
        'STU03',
        term_id,
        'student',
        student_id,
        null,
        total_score as numerator,
        null as denominator,
        total_score as value
    from latest_responses

),

points as (

    select * from {{ ref('dim_control_points') }}

),

-- Each unit in words, as a warning names it: 课程 46010502《设计素描》, 教师 工号 T0412 张*
-- (personal names masked: first character kept), and the org unit it belongs to.
unit_names as (

    select
        'course' as unit_type,
        course_code as unit_id,
        '课程 ' || course_code || '《' || coalesce(course_name, '') || '》' as unit_name,
        org_unit_code
    from {{ ref('dim_courses') }}
    union all
    select
        'staff',
        staff_id,
        '教师 工号 ' || staff_id || ' ' || left(coalesce(name, ''), 1) || repeat('*', greatest(length(name) - 1, 1)),
        org_unit_code
    from {{ ref('dim_staff') }}
    union all
    select
        'student',
        student_id,
        '学生 学号 ' || student_id || ' ' || left(coalesce(name, ''), 1) || repeat('*', greatest(length(name) - 1, 1)),
        org_unit_code
    from {{ ref('dim_students') }}
    union all
    select
        'major',
        code,
        '专业 ' || code || ' ' || name_zh,
        null
    from {{ ref('vocational_majors_2021') }}
    union all
    select distinct on (cluster_code)
        'major_cluster',
        cluster_code,
        '专业群 ' || cluster_code || ' ' || coalesce(cluster_name, ''),
        org_unit_code
    from {{ ref('dim_majors') }}
    where cluster_code is not null
    union all
    select
        'budget_item',
        budget_item_id,
        '预算项目 ' || budget_item_id || '《' || coalesce(budget_item_name, '') || '》',
        org_unit_code
    from {{ ref('fct_budget_execution') }}

),

terms as (

    select * from {{ ref('academic_terms') }}

),

judged as (

    select
        values_all.*,
        -- the first day of the period, and the day from which the point is judged
        -- (control_points.due_after_days): annual training hours are not judged in September
        case points.period_type
            when 'academic_year' then make_date(left(values_all.period_id, 4)::int, 9, 1)
            when 'term' then terms.teaching_start_date::date
            when 'month' then to_date(values_all.period_id || '-01', 'YYYY-MM-DD')
            when 'year' then make_date(values_all.period_id::int, 1, 1)
        end as period_start
    from values_all
    inner join points on values_all.control_point_code = points.control_point_code
    left join terms on points.period_type = 'term' and values_all.period_id = terms.term_id

)

select
    judged.control_point_code,
    points.name_zh as control_point_name,
    points.level,
    points.period_type,
    judged.period_id,
    judged.unit_type,
    judged.unit_id,
    coalesce(
        unit_names.unit_name,
        case judged.unit_type when 'school' then '全校' else judged.unit_id end
    ) as unit_name,
    coalesce(judged.org_unit_code, unit_names.org_unit_code) as org_unit_code,
    org_units.org_unit_name,
    judged.numerator,
    judged.denominator,
    judged.value,
    points.unit,
    points.direction,
    points.target_value,
    points.standard_value,
    points.warning_value,
    judged.period_start,
    judged.period_start + points.due_after_days as judged_from,
    case
        when judged.period_start + points.due_after_days > as_of.as_of_time::date then null
        else {{ control_point_status(
            'judged.value', 'points.direction', 'points.standard_value', 'points.warning_value'
        ) }}
    end as status,
    case
        when judged.value is null then null
        when points.direction = 'higher_is_better' then judged.value >= points.target_value
        else judged.value <= points.target_value
    end as is_target_reached,
    points.owner_department,
    as_of.as_of_time as data_as_of
from judged
inner join points on judged.control_point_code = points.control_point_code
left join unit_names on judged.unit_type = unit_names.unit_type and judged.unit_id = unit_names.unit_id
left join {{ ref('dim_org_units') }} as org_units
    on coalesce(judged.org_unit_code, unit_names.org_unit_code) = org_units.org_unit_code
cross join as_of
