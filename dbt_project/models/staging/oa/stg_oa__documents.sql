-- 由 `./run sync` 从 connectors/subsystems/oa.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('oa', 'documents') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('wjid') }} as document_id,
        {{ code('fwbmdm') }} as org_unit_code,
        {{ code('ngrgh') }} as drafter_staff_id,
        ---------- text
        {{ txt('bt') }} as title,
        {{ txt('wh') }} as document_number,
        {{ txt('wjlx') }} as document_type,
        {{ txt('fwbmmc') }} as org_unit_name,
        {{ txt('ngrxm') }} as drafter_name,
        {{ txt('jjcd') }} as urgency,
        {{ txt('zt') }} as status,
        ---------- timestamps
        {{ ts('ngsj', 'iso') }} as drafted_at,
        {{ ts('bjsj', 'iso') }} as completed_at,
        {{ ts('modified', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
