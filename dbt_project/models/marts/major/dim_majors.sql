-- Majors offered (教务 majors) with their 2021 catalogue entry, school and cluster.
with

majors as (

    select * from {{ ref('stg_academic__majors') }}

),

catalogue as (

    select * from {{ ref('vocational_majors_2021') }}

),

codes as (

    select * from {{ ref('int_major_codes_conformed') }}

)

select
    majors.major_id,
    coalesce(codes.major_code, majors.major_code) as major_code,
    majors.major_code as reported_major_code,
    coalesce(codes.is_stale_code, false) as is_stale_major_code,
    majors.major_name,
    catalogue.name_zh as catalogue_name,
    catalogue.category_code,
    catalogue.category_name_zh as category_name,
    catalogue.class_code,
    catalogue.class_name_zh as class_name,
    majors.org_unit_code,
    majors.cluster_code,
    majors.cluster_name,
    majors.duration_years,
    majors.education_level,
    majors.established_year,
    majors.is_enrolling,
    codes.major_code is not null as is_in_catalogue,
    majors.updated_at
from majors
left join codes on majors.major_code = codes.reported_code
left join catalogue on codes.major_code = catalogue.code
