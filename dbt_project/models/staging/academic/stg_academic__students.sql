-- 由 `./run sync` 从 connectors/subsystems/academic.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('academic', 'students') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('xh') }} as student_id,
        {{ code('xbm') }} as sex_code,
        {{ code('mzm') }} as ethnicity_code,
        {{ code('zzmmm') }} as political_status_code,
        {{ code('sfzjh') }} as id_number,
        {{ code('jgdm') }} as org_unit_code,
        {{ code('zyh_id') }} as major_id,
        {{ code('zydm') }} as major_code,
        {{ code('bh_id') }} as class_id,
        {{ code('xjztdm') }} as status_code,
        {{ code('sjhm') }} as phone,
        {{ code('syd') }} as origin_region_code,
        ---------- text
        {{ txt('xm') }} as name,
        {{ txt('xjztmc') }} as status_name,
        ---------- numbers
        {{ int_('njdm_id') }} as grade_year,
        ---------- dates
        {{ dt('csrq', 'yyyyMMdd') }} as birth_date,
        {{ dt('rxrq', 'yyyyMMdd') }} as enrolment_date,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
