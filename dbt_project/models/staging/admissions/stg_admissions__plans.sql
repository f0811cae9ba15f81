-- 由 `./run sync` 从 connectors/subsystems/admissions.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('admissions', 'plans') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('JHBH') }} as plan_id,
        {{ code('SFDM') }} as province_code,
        {{ code('ZYDM') }} as reported_major_code,
        ---------- text
        {{ txt('SFMC') }} as province_name,
        {{ txt('ZYMC') }} as major_name,
        {{ txt('KLMC') }} as subject_category,
        {{ txt('PCMC') }} as admission_batch,
        ---------- numbers
        {{ int_('ND') }} as admission_year,
        {{ int_('JHS') }} as planned_count,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
