-- 由 `./run sync` 从 connectors/subsystems/teacher_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('teacher_development', 'staff') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('GH') }} as staff_id,
        {{ code('XBM') }} as sex_code,
        {{ code('MZM') }} as ethnicity_code,
        {{ code('ZZMMM') }} as political_status_code,
        {{ code('SFZJH') }} as id_number,
        {{ code('BMDM') }} as org_unit_code,
        {{ code('XLDM') }} as education_code,
        {{ code('SJHM') }} as phone,
        ---------- text
        {{ txt('XM') }} as name,
        {{ txt('BMMC') }} as org_unit_name,
        {{ txt('GWLB') }} as post_category,
        {{ txt('ZCMC') }} as title_name,
        {{ txt('ZCJB') }} as title_level,
        {{ txt('RYZT') }} as employment_status,
        ---------- booleans
        {{ flag('SFSSX') }} as is_dual_qualified,
        ---------- dates
        {{ dt('CSRQ', 'yyyyMMdd') }} as birth_date,
        {{ dt('RZRQ', 'yyyyMMdd') }} as hire_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
