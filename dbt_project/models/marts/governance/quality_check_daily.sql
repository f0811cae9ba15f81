-- Pass rates of the quality checks per day, subsystem, dataset and principle (Article 4),
-- from the results history the quality DAGs write. A check run several times a day counts
-- once, with its last result of the day. A view, so reports and BI see the latest run.
{{ config(materialized='view') }}

with

last_of_day as (

    select distinct on (results.day, results.dataset, results.check_key)
        results.day,
        results.layer,
        results.subsystem,
        results.dataset,
        results.check_key,
        results.principle,
        results.blocking,
        results.outcome
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

)

select
    last_of_day.day,
    last_of_day.layer,
    last_of_day.subsystem as subsystem_id,
    subsystems.name_zh as subsystem_name,
    subsystems.managing_departments,
    last_of_day.dataset,
    last_of_day.principle,
    count(*) as checks,
    count(*) filter (where last_of_day.outcome = 'passed') as passed,
    count(*) filter (where last_of_day.outcome = 'failed') as failed,
    count(*) filter (where last_of_day.outcome = 'warned') as warned,
    count(*) filter (
        where last_of_day.outcome = 'failed' and last_of_day.blocking
    ) as blocking_failed,
    round(100.0 * count(*) filter (where last_of_day.outcome = 'passed') / count(*), 1)
        as pass_rate
from last_of_day
left join {{ ref('registry_subsystems') }} as subsystems
    on last_of_day.subsystem = subsystems.subsystem_id
group by
    last_of_day.day,
    last_of_day.layer,
    last_of_day.subsystem,
    subsystems.name_zh,
    subsystems.managing_departments,
    last_of_day.dataset,
    last_of_day.principle
