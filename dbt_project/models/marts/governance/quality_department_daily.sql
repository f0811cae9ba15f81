-- Pass rates per day, responsible department and principle: the completeness, accuracy and
-- timeliness facts of the year-end assessment of each department's data work (Article 14).
-- A department answers for the checks of every subsystem it manages or organises.
{{ config(materialized='view') }}

with

last_of_day as (

    select distinct on (results.day, results.dataset, results.check_key)
        results.day,
        results.subsystem,
        results.dataset,
        results.check_key,
        results.principle,
        results.outcome,
        results.departments
    from (
        select
            check_results.*,
            (check_results.verified_at at time zone 'Asia/Shanghai')::date as day
        from {{ source('quality_results', 'check_results') }} as check_results
        where check_results.outcome in ('passed', 'failed', 'warned')
    ) as results
    order by
        results.day asc, results.dataset asc, results.check_key asc,
        results.verified_at desc

),

by_department as (

    select
        last_of_day.day,
        department.name as department,
        last_of_day.subsystem,
        last_of_day.principle,
        last_of_day.outcome
    from last_of_day
    cross join lateral unnest(last_of_day.departments) as department (name)

)

select
    by_department.day,
    by_department.department,
    by_department.principle,
    count(distinct by_department.subsystem) as subsystems,
    count(*) as checks,
    count(*) filter (where by_department.outcome = 'passed') as passed,
    count(*) filter (where by_department.outcome = 'failed') as failed,
    count(*) filter (where by_department.outcome = 'warned') as warned,
    round(100.0 * count(*) filter (where by_department.outcome = 'passed') / count(*), 1)
        as pass_rate
from by_department
group by by_department.day, by_department.department, by_department.principle
