-- 由 `./run sync` 从 connectors/subsystems/research.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('research', 'patents') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('zlbh') }} as patent_id,
        {{ code('sqh') }} as application_number,
        {{ code('fmrgh') }} as first_inventor_staff_id,
        {{ code('bmdm') }} as org_unit_code,
        ---------- text
        {{ txt('zlmc') }} as patent_name,
        {{ txt('zllx') }} as patent_type,
        {{ txt('zlzt') }} as status,
        {{ txt('fmrxm') }} as first_inventor_name,
        ---------- dates
        {{ dt('sqrq', 'yyyy-MM-dd') }} as application_date,
        {{ dt('sqggrq', 'yyyy-MM-dd') }} as grant_date,
        ---------- timestamps
        {{ ts('updateTime', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
