-- 由 `./run sync` 从 connectors/subsystems/academic.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('academic', 'courses') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('kch') }} as course_code,
        {{ code('kcxzdm') }} as course_nature_code,
        {{ code('kkbm') }} as org_unit_code,
        ---------- text
        {{ txt('kcmc') }} as course_name,
        {{ txt('kcxzmc') }} as course_nature_name,
        {{ txt('kclbmc') }} as course_type,
        ---------- numbers
        {{ num('xf', 1) }} as credits,
        {{ int_('zxs') }} as total_hours,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
