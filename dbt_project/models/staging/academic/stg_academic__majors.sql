-- 由 `./run sync` 从 connectors/subsystems/academic.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('academic', 'majors') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('zyh_id') }} as major_id,
        {{ code('zydm') }} as major_code,
        {{ code('jgdm') }} as org_unit_code,
        {{ code('zyqdm') }} as cluster_code,
        ---------- text
        {{ txt('zymc') }} as major_name,
        {{ txt('zyqmc') }} as cluster_name,
        {{ txt('ccmc') }} as education_level,
        ---------- numbers
        {{ int_('xz') }} as duration_years,
        {{ int_('jlny') }} as established_year,
        ---------- booleans
        {{ flag('sfzs') }} as is_enrolling,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
