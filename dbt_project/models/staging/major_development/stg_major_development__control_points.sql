-- 由 `./run sync` 从 connectors/subsystems/major_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('major_development', 'control_points') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('JLID') }} as record_id,
        {{ code('ZYQDM') }} as cluster_code,
        {{ code('ZYDM') }} as major_code,
        {{ code('ZKDDM') }} as point_code,
        {{ code('XN') }} as academic_year,
        {{ code('TBRGH') }} as filler_staff_id,
        {{ code('SHZT') }} as review_status_code,
        ---------- text
        {{ txt('ZKDMC') }} as point_name,
        {{ txt('DCZT') }} as achievement_status,
        {{ txt('SHYJ') }} as review_opinion,
        ---------- numbers
        {{ num('MBZ', 4) }} as target_value,
        {{ num('SJZ', 4) }} as actual_value,
        ---------- timestamps
        {{ ts('TBSJ', 'yyyy-MM-dd HH:mm:ss') }} as filled_at,
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
