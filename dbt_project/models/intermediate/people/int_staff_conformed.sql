-- One row per staff member (工号, from the teacher-development roster), with the DingTalk
-- userid and campus-card account linked by 工号 only; a DingTalk user without 工号 is left
-- unlinked and surfaced in identity_issues.
with

staff as (

    select * from {{ ref('stg_teacher_development__staff') }}

),

dingtalk_users as (

    select distinct on (staff_id)
        staff_id,
        user_id,
        is_active
    from {{ ref('stg_dingtalk__users') }}
    where staff_id is not null
    order by staff_id asc, is_active desc nulls last, user_id asc

),

card_accounts as (

    select distinct on (person_number)
        person_number,
        account_id,
        card_number
    from {{ ref('stg_campus_card__accounts') }}
    where customer_type_code = '2' and person_number is not null
    order by person_number asc, (card_status_code = '1') desc, opened_date desc nulls last

),

education as (

    select * from {{ ref('gb_t_4658_education') }}

)

select
    staff.staff_id,
    staff.name,
    staff.sex_code,
    staff.birth_date,
    staff.ethnicity_code,
    staff.political_status_code,
    staff.id_number,
    staff.phone,
    staff.org_unit_code,
    staff.post_category,
    staff.title_name,
    staff.title_level,
    staff.education_code,
    education.name_zh as education_name,
    staff.education_code in ('11', '12', '13', '14', '15', '16', '17', '18', '19') as has_postgraduate_education,
    coalesce(staff.is_dual_qualified, false) as is_dual_qualified,
    staff.post_category = '专任教师' as is_full_time_teacher,
    staff.employment_status,
    staff.employment_status = '在职' as is_active,
    staff.hire_date,
    dingtalk_users.user_id as dingtalk_user_id,
    card_accounts.account_id as card_account_id,
    card_accounts.card_number,
    staff.updated_at
from staff
left join dingtalk_users on staff.staff_id = dingtalk_users.staff_id
left join card_accounts on staff.staff_id = card_accounts.person_number
left join education on staff.education_code = education.code
