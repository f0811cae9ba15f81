-- Every record in another system that names a person, checked against the masters (学籍 for
-- students, the staff roster for staff). A link is made only through an identifier: 学号 /
-- 工号 first, then 身份证号; a record that cannot be linked, or whose identifiers disagree,
-- gets an issue_type and goes to the responsible department through identity_issues.
with

students as (

    select
        student_id,
        name,
        id_number
    from {{ ref('stg_academic__students') }}

),

staff as (

    select
        staff_id,
        name,
        id_number
    from {{ ref('stg_teacher_development__staff') }}

),

-- one CTE per referencing record set: subsystem, resource, key, id, id number, name
student_refs as (

    select
        'admissions' as subsystem_id,
        'enrolments' as resource,
        source_key,
        student_id as reported_id,
        null::text as reported_id_number,
        name as reported_name
    from {{ ref('stg_admissions__enrolments') }}
    where registration_status_code is distinct from '2'
    union all
    select
        'employment',
        'graduates',
        source_key,
        student_id,
        id_number,
        name
    from {{ ref('stg_employment__graduates') }}
    union all
    select
        'campus_card',
        'accounts',
        source_key,
        person_number,
        null,
        name
    from {{ ref('stg_campus_card__accounts') }}
    where customer_type_code = '1'
    union all
    select
        'student_development',
        'counsellor_records',
        source_key,
        student_id,
        null,
        null
    from {{ ref('stg_student_development__counsellor_records') }}

),

staff_refs as (

    select
        'dingtalk' as subsystem_id,
        'users' as resource,
        source_key,
        staff_id as reported_id,
        name as reported_name
    from {{ ref('stg_dingtalk__users') }}
    union all
    select
        'campus_card',
        'accounts',
        source_key,
        person_number,
        name
    from {{ ref('stg_campus_card__accounts') }}
    where customer_type_code = '2'
    union all
    select distinct on (teacher_staff_id)
        'academic',
        'sections',
        source_key,
        teacher_staff_id,
        teacher_name
    from {{ ref('stg_academic__sections') }}
    where teacher_staff_id is not null

),

student_checked as (

    select
        refs.subsystem_id,
        refs.resource,
        refs.source_key,
        'student' as person_type,
        refs.reported_id,
        refs.reported_name,
        coalesce(by_id.student_id, by_id_number.student_id) as person_id,
        case
            when by_id.student_id is not null then '学号'
            when by_id_number.student_id is not null then '身份证号'
        end as matched_by,
        case
            when refs.reported_id is null and by_id_number.student_id is null then 'missing_identifier'
            when by_id.student_id is null and by_id_number.student_id is null then 'unknown_identifier'
            when by_id.student_id is null then 'identifier_conflict'
            when refs.reported_id_number is not null and refs.reported_id_number <> by_id.id_number
                then 'identifier_conflict'
            when refs.reported_name is not null and refs.reported_name <> by_id.name then 'name_differs'
        end as issue_type,
        coalesce(by_id.name, by_id_number.name) as master_name
    from student_refs as refs
    left join students as by_id on refs.reported_id = by_id.student_id
    left join students as by_id_number
        on
            by_id.student_id is null
            and refs.reported_id_number is not null
            and refs.reported_id_number = by_id_number.id_number

),

staff_checked as (

    select
        refs.subsystem_id,
        refs.resource,
        refs.source_key,
        'staff' as person_type,
        refs.reported_id,
        refs.reported_name,
        staff.staff_id as person_id,
        case when staff.staff_id is not null then '工号' end as matched_by,
        case
            when refs.reported_id is null then 'missing_identifier'
            when staff.staff_id is null then 'unknown_identifier'
            when refs.reported_name is not null and refs.reported_name <> staff.name then 'name_differs'
        end as issue_type,
        staff.name as master_name
    from staff_refs as refs
    left join staff on refs.reported_id = staff.staff_id

),

staff_missing_in_dingtalk as (

    select
        'dingtalk' as subsystem_id,
        'users' as resource,
        staff.source_key,
        'staff' as person_type,
        staff.staff_id as reported_id,
        staff.name as reported_name,
        staff.staff_id as person_id,
        null as matched_by,
        'missing_counterpart' as issue_type,
        staff.name as master_name
    from {{ ref('stg_teacher_development__staff') }} as staff
    where
        staff.employment_status = '在职'
        and exists (select 1 from {{ ref('stg_dingtalk__users') }})
        and not exists (
            select 1 from {{ ref('stg_dingtalk__users') }} as users
            where users.staff_id = staff.staff_id
        )

)

select * from student_checked
union all
select * from staff_checked
union all
select * from staff_missing_in_dingtalk
