-- Staff (教职工), one row per 工号, with DingTalk and campus-card ids linked by 工号;
-- 身份证号 and phone numbers only masked and as keyed hashes.
with

staff as (

    select * from {{ ref('int_staff_conformed') }}

),

sex as (

    select * from {{ ref('gb_t_2261_1_sex') }}

),

ethnicity as (

    select * from {{ ref('gb_3304_ethnicity') }}

),

political as (

    select * from {{ ref('gb_t_4762_political_status') }}

)

select
    staff.staff_id,
    staff.name,
    staff.sex_code,
    sex.name_zh as sex_name,
    extract(year from staff.birth_date)::int as birth_year,
    ethnicity.name_zh as ethnicity_name,
    political.name_zh as political_status_name,
    {{ pii_masked('staff.id_number') }} as id_number_masked,
    {{ pii_hash('staff.id_number') }} as id_number_hash,
    {{ pii_masked('staff.phone') }} as phone_masked,
    staff.org_unit_code,
    staff.post_category,
    staff.is_full_time_teacher,
    staff.title_name,
    staff.title_level,
    staff.education_code,
    staff.education_name,
    staff.has_postgraduate_education,
    staff.is_dual_qualified,
    staff.employment_status,
    staff.is_active,
    staff.hire_date,
    staff.dingtalk_user_id,
    staff.card_account_id,
    staff.updated_at
from staff
left join sex on staff.sex_code = sex.code
left join ethnicity on staff.ethnicity_code = ethnicity.code
left join political on staff.political_status_code = political.code
