with

source as (

    select * from {{ publishable('major_development', 'clusters') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('ZYQDM') }} as cluster_code,
        {{ code('YXDM') }} as org_unit_code,
        {{ code('FZRGH') }} as leader_staff_id,
        ---------- text
        {{ txt('ZYQMC') }} as cluster_name,
        {{ txt('JSJB') }} as construction_level,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- derived
        string_to_array(nullif(payload ->> 'ZYDMS', ''), ',') as major_codes,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
