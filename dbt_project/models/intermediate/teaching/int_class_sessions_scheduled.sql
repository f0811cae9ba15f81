-- Every class meeting the timetable schedules in a term, up to the date the attendance
-- records have reached (attendance only records exceptions, so the scheduled meetings are
-- the denominator of 到课率). Weeks such as "1-16周" or "1-8周,10-16周" are expanded.
with

timetable as (

    select * from {{ ref('stg_academic__timetable') }}
    where term_id is not null and weekday between 1 and 7

),

terms as (

    select * from {{ ref('academic_terms') }}

),

week_ranges as (

    select
        timetable.timetable_id,
        timetable.section_id,
        timetable.term_id,
        timetable.weekday::int as weekday,
        timetable.periods,
        split_part(week_range, '-', 1)::int as first_week,
        coalesce(nullif(split_part(week_range, '-', 2), ''), split_part(week_range, '-', 1))::int as last_week
    from timetable
    cross join
        lateral
        regexp_split_to_table(regexp_replace(coalesce(timetable.weeks, ''), '[^0-9,-]', '', 'g'), ',')
            as week_range
    where week_range ~ '^\d+(-\d+)?$'

),

as_of as (

    select coalesce(max(attendance_date), current_date) as data_as_of
    from {{ ref('stg_academic__attendance') }}

)

select
    week_ranges.timetable_id,
    week_ranges.section_id,
    week_ranges.term_id,
    week_ranges.periods,
    week_no,
    (
        terms.teaching_start_date
        - (extract(isodow from terms.teaching_start_date)::int - 1)
        + (week_no - 1) * 7
        + (week_ranges.weekday - 1)
    )::date as session_date
from week_ranges
inner join terms on week_ranges.term_id = terms.term_id
cross join lateral generate_series(week_ranges.first_week, week_ranges.last_week) as week_no
cross join as_of
where
    (
        terms.teaching_start_date
        - (extract(isodow from terms.teaching_start_date)::int - 1)
        + (week_no - 1) * 7
        + (week_ranges.weekday - 1)
    )::date between terms.teaching_start_date and as_of.data_as_of
