-- 由 `./run sync` 从 connectors/subsystems/academic.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('academic', 'departments') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('jgdm') }} as org_unit_code,
        ---------- text
        {{ txt('jgmc') }} as org_unit_name,
        {{ txt('jgjc') }} as short_name,
        {{ txt('jglbmc') }} as unit_type,
        ---------- booleans
        {{ flag('sfyx') }} as is_active,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
