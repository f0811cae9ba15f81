-- Every major code a subsystem may report, mapped to the 2021 catalogue code. Codes of the
-- 2015 catalogue (employment and admissions still send them) map through the seed; an
-- unknown code maps to nothing and is surfaced in identity_issues, never guessed.
with

current_codes as (

    select
        code as reported_code,
        code as major_code,
        name_zh as major_name,
        false as is_stale_code
    from {{ ref('vocational_majors_2021') }}

),

stale_codes as (

    select
        old.code as reported_code,
        old.new_code as major_code,
        new.name_zh as major_name,
        true as is_stale_code
    from {{ ref('major_codes_2015') }} as old
    inner join {{ ref('vocational_majors_2021') }} as new on old.new_code = new.code

)

select * from current_codes
union all
select * from stale_codes
