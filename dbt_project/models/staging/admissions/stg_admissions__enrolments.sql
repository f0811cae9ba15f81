-- 由 `./run sync` 从 connectors/subsystems/admissions.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('admissions', 'enrolments') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('KSH') }} as applicant_id,
        {{ code('XH') }} as student_id,
        {{ code('LQZYDM') }} as admitted_major_code,
        {{ code('BDZT') }} as registration_status_code,
        ---------- text
        {{ txt('XM') }} as name,
        ---------- timestamps
        {{ ts('BDSJ', 'yyyy-MM-dd HH:mm:ss') }} as registered_at,
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
