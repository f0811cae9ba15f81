-- 由 `./run sync` 从 connectors/subsystems/teacher_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('teacher_development', 'trainings') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('JLID') }} as record_id,
        {{ code('GH') }} as staff_id,
        ---------- text
        {{ txt('PXXMMC') }} as training_name,
        {{ txt('PXLX') }} as training_type,
        {{ txt('ZBDW') }} as organiser,
        ---------- numbers
        {{ num('XS', 1) }} as hours,
        ---------- dates
        {{ dt('KSRQ', 'yyyyMMdd') }} as start_date,
        {{ dt('JSRQ', 'yyyyMMdd') }} as end_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
