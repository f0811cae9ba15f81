-- 由 `./run sync` 从 connectors/subsystems/employment.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('employment', 'destinations') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('XH') }} as student_id,
        {{ code('BYQXDM') }} as destination_code,
        {{ code('DWSZDDM') }} as employer_region_code,
        ---------- text
        {{ txt('BYQXMC') }} as destination_name,
        {{ txt('DWMC') }} as employer_name,
        {{ txt('DWXZMC') }} as employer_type,
        {{ txt('GZZWLBMC') }} as job_category,
        ---------- numbers
        {{ int_('BYNF') }} as graduation_year,
        ---------- booleans
        {{ flag('ZYXGD', '是', '否') }} as is_major_related,
        ---------- dates
        {{ dt('QYRQ', 'yyyyMMdd') }} as signed_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
