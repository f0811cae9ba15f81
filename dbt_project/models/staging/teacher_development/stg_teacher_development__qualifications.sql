-- 由 `./run sync` 从 connectors/subsystems/teacher_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('teacher_development', 'qualifications') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('JLID') }} as record_id,
        {{ code('GH') }} as staff_id,
        ---------- text
        {{ txt('ZSLX') }} as certificate_type,
        {{ txt('ZSMC') }} as certificate_name,
        {{ txt('ZSBH') }} as certificate_number,
        {{ txt('FZJG') }} as issuing_body,
        ---------- dates
        {{ dt('HDRQ', 'yyyyMMdd') }} as obtained_date,
        {{ dt('YXQZ', 'yyyyMMdd') }} as valid_until,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
