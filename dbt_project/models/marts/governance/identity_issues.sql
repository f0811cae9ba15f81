-- Records that could not be linked to one person, or whose identifiers disagree with the
-- master (学籍 for students, the staff roster for staff), for the managing department of the
-- system that holds the record to correct (Article 11). Nothing here is guessed: a record
-- is linked only through 学号 / 工号 / 身份证号, and stale major codes are listed too.
with

links as (

    select * from {{ ref('int_identity_links_checked') }}
    where issue_type is not null

),

stale_major_codes as (

    select
        'employment' as subsystem_id,
        'graduates' as resource,
        graduates.source_key,
        'student' as person_type,
        graduates.student_id as reported_id,
        null::text as reported_name,
        graduates.student_id as person_id,
        null::text as matched_by,
        case when codes.is_stale_code then 'stale_major_code' else 'unknown_major_code' end as issue_type,
        null::text as master_name,
        graduates.reported_major_code as reported_value,
        codes.major_code as expected_value
    from {{ ref('stg_employment__graduates') }} as graduates
    left join {{ ref('int_major_codes_conformed') }} as codes
        on graduates.reported_major_code = codes.reported_code
    where codes.is_stale_code or codes.reported_code is null
    union all
    select
        'admissions',
        'applicants',
        applicants.source_key,
        'applicant',
        applicants.applicant_id,
        null,
        null,
        null,
        case when codes.is_stale_code then 'stale_major_code' else 'unknown_major_code' end,
        null,
        applicants.admitted_major_code,
        codes.major_code
    from {{ ref('stg_admissions__applicants') }} as applicants
    left join {{ ref('int_major_codes_conformed') }} as codes
        on applicants.admitted_major_code = codes.reported_code
    where applicants.admitted_major_code is not null and (codes.is_stale_code or codes.reported_code is null)

),

issues as (

    select
        subsystem_id,
        resource,
        source_key,
        person_type,
        reported_id,
        reported_name,
        person_id,
        matched_by,
        issue_type,
        master_name,
        reported_name as reported_value,
        master_name as expected_value
    from links
    union all
    select * from stale_major_codes

),

labels as (

    select * from (
        values
        ('missing_identifier', '缺少学号/工号，无法对应到人'),
        ('unknown_identifier', '学号/工号在主数据中不存在'),
        ('identifier_conflict', '学号与身份证号指向不同的人或与主数据不一致'),
        ('name_differs', '姓名与主数据写法不一致'),
        ('missing_counterpart', '在职教职工在钉钉中没有对应账号'),
        ('stale_major_code', '使用了 2015 年旧专业代码'),
        ('unknown_major_code', '专业代码不在 2021 目录及新旧代码对照中')
    ) as labels (issue_type, issue_label)

)

select
    md5(issues.subsystem_id || '|' || issues.resource || '|' || issues.source_key || '|' || issues.issue_type)
        as issue_id,
    issues.subsystem_id,
    subsystems.name_zh as subsystem_name,
    issues.resource,
    issues.source_key,
    issues.person_type,
    issues.issue_type,
    labels.issue_label,
    issues.reported_id,
    issues.person_id,
    issues.matched_by,
    issues.reported_value,
    issues.expected_value,
    subsystems.managing_departments as responsible_department,
    departments.quality_administrators as responsible_quality_administrators
from issues
left join labels on issues.issue_type = labels.issue_type
left join {{ ref('registry_subsystems') }} as subsystems on issues.subsystem_id = subsystems.subsystem_id
left join {{ ref('registry_departments') }} as departments
    on split_part(subsystems.managing_departments, '、', 1) = departments.department
