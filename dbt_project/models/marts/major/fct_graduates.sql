-- One row per graduate (就业系统生源) with the conformed 2021 major code and the reported
-- destination; is_placed counts towards 毕业去向落实率 (就业率).
with

graduates as (

    select * from {{ ref('stg_employment__graduates') }}

),

destinations as (

    select * from {{ ref('stg_employment__destinations') }}

),

codes as (

    select * from {{ ref('int_major_codes_conformed') }}

),

destination_codes as (

    select * from {{ ref('graduate_destinations') }}

)

select
    graduates.student_id,
    graduates.graduation_year,
    coalesce(codes.major_code, graduates.reported_major_code) as major_code,
    graduates.reported_major_code,
    coalesce(codes.is_stale_code, false) as is_stale_major_code,
    codes.major_code is not null as is_major_code_known,
    graduates.org_unit_code,
    graduates.sex_code,
    graduates.origin_region_code,
    destinations.destination_code,
    coalesce(destinations.destination_name, destination_codes.name_zh) as destination_name,
    destination_codes.category_zh as destination_category,
    coalesce(destination_codes.is_placed, false) as is_placed,
    coalesce(destination_codes.is_employed, false) as is_employed,
    destinations.employer_type,
    destinations.employer_region_code,
    destinations.job_category,
    destinations.signed_date,
    destinations.is_major_related,
    destinations.student_id is not null as has_destination_record,
    greatest(graduates.updated_at, destinations.updated_at) as updated_at
from graduates
left join destinations on graduates.student_id = destinations.student_id
left join codes on graduates.reported_major_code = codes.reported_code
left join destination_codes on destinations.destination_code = destination_codes.code
