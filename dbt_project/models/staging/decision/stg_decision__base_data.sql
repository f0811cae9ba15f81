with

source as (

    select * from {{ publishable('decision', 'base_data') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('XN') }} as academic_year,
        {{ code('ZBDM') }} as indicator_code,
        {{ code('TBBM') }} as filling_org_unit_code,
        {{ code('TBRGH') }} as filler_staff_id,
        ---------- text
        {{ txt('ZBMC') }} as indicator_name,
        {{ txt('DW') }} as reported_unit,
        ---------- numbers
        {{ num('ZBZ', 4) }} as reported_value,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- derived
        case when payload ->> 'DW' = '万元' then {{ num('ZBZ', 4) }} * 10000 else {{ num('ZBZ', 4) }} end
            as indicator_value,
        case when payload ->> 'DW' = '万元' then '元' else nullif(payload ->> 'DW', '') end as indicator_unit,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
