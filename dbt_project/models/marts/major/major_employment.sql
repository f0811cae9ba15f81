-- 毕业去向落实率 (employment rate) and 专业相关度 per major and graduation year.
-- A cohort counts once it has graduated (1 July of its graduation year, by the date of the
-- latest employment record); the next cohort's 生源 records arrive in September.
with

as_of as (

    select
        coalesce(
            greatest(
                (select max(g.updated_at) from {{ ref('stg_employment__graduates') }} as g),
                (select max(d.updated_at) from {{ ref('stg_employment__destinations') }} as d)
            ),
            current_timestamp
        ) at time zone 'Asia/Shanghai' as as_of_time

)

select
    graduates.graduation_year,
    graduates.major_code,
    make_date(graduates.graduation_year::int, 7, 1) <= max(as_of.as_of_time)::date as is_graduated,
    count(*) as graduates,
    count(*) filter (where graduates.is_placed) as placed,
    count(*) filter (where graduates.is_employed) as employed,
    count(*) filter (where graduates.is_employed and graduates.is_major_related) as major_related,
    round(count(*) filter (where graduates.is_placed)::numeric / nullif(count(*), 0), 4) as placement_rate,
    round(
        count(*) filter (where graduates.is_employed and graduates.is_major_related)::numeric
        / nullif(count(*) filter (where graduates.is_employed), 0),
        4
    ) as major_related_rate
from {{ ref('fct_graduates') }} as graduates
cross join as_of
group by graduates.graduation_year, graduates.major_code
