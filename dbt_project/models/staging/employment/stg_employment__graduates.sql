-- 由 `./run sync` 从 connectors/subsystems/employment.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('employment', 'graduates') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('XH') }} as student_id,
        {{ code('XBM') }} as sex_code,
        {{ code('MZM') }} as ethnicity_code,
        {{ code('ZZMMM') }} as political_status_code,
        {{ code('SFZJH') }} as id_number,
        {{ code('YXDM') }} as org_unit_code,
        {{ code('ZYDM') }} as reported_major_code,
        {{ code('SYDM') }} as origin_region_code,
        {{ code('SJHM') }} as phone,
        ---------- text
        {{ txt('XM') }} as name,
        {{ txt('ZYMC') }} as major_name,
        {{ txt('XLCC') }} as education_level,
        ---------- numbers
        {{ int_('BYNF') }} as graduation_year,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
