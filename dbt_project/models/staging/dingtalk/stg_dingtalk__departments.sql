with

source as (

    select * from {{ publishable('dingtalk', 'departments') }} as raw_rows

),

renamed as (

    select
        ---------- text
        {{ txt('name') }} as dept_name,
        ---------- numbers
        {{ int_('dept_id') }} as dingtalk_dept_id,
        {{ int_('parent_id') }} as parent_dept_id,
        ---------- derived
        case
            when {{ int_('dept_id') }} > 100 then lpad(({{ int_('dept_id') }} - 100)::text, 3, '0')
        end as org_unit_code,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
