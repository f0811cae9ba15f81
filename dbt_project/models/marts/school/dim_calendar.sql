-- One row per day from the 2019-2020 academic year to 2028-2029, knowing its 学年 (1 Sep –
-- 31 Aug), 学期 and teaching week from the calendar seed.
with

days as (

    select generate_series('2019-09-01'::date, '2029-08-31'::date, interval '1 day')::date as calendar_date

),

terms as (

    select * from {{ ref('academic_terms') }}

)

select
    days.calendar_date,
    extract(year from days.calendar_date)::int as calendar_year,
    to_char(days.calendar_date, 'YYYY-MM') as calendar_month,
    extract(isodow from days.calendar_date)::int as iso_weekday,
    extract(isodow from days.calendar_date) in (6, 7) as is_weekend,
    terms.academic_year,
    terms.academic_year_start,
    terms.term_id,
    terms.term_no,
    terms.term_name_zh,
    case
        when days.calendar_date >= terms.teaching_start_date
            then (
                (
                    days.calendar_date
                    - (terms.teaching_start_date - (extract(isodow from terms.teaching_start_date)::int - 1))
                )
                / 7
                + 1
            )::int
    end as teaching_week,
    coalesce(
        days.calendar_date >= terms.teaching_start_date
        and (days.calendar_date - terms.teaching_start_date) < terms.teaching_weeks * 7,
        false
    ) as is_teaching_period
from days
left join terms on days.calendar_date between terms.start_date and terms.end_date
