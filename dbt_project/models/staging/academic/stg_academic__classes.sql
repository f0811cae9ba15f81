-- 由 `./run sync` 从 connectors/subsystems/academic.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('academic', 'classes') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('bh_id') }} as class_id,
        {{ code('zyh_id') }} as major_id,
        {{ code('zydm') }} as major_code,
        {{ code('jgdm') }} as org_unit_code,
        {{ code('fdy_gh') }} as counsellor_staff_id,
        ---------- text
        {{ txt('bj') }} as class_name,
        ---------- numbers
        {{ int_('njdm_id') }} as grade_year,
        {{ int_('rs') }} as headcount,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
