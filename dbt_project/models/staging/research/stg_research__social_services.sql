-- 由 `./run sync` 从 connectors/subsystems/research.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('research', 'social_services') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('fwbh') }} as receipt_id,
        {{ code('fzrgh') }} as leader_staff_id,
        {{ code('bmdm') }} as org_unit_code,
        ---------- text
        {{ txt('xmmc') }} as project_name,
        {{ txt('fwlx') }} as service_type,
        {{ txt('hzdw') }} as partner_name,
        {{ txt('fzrxm') }} as leader_name,
        ---------- money (yuan)
        {{ yuan('htje', 'wan_yuan') }} as contract_amount_yuan,
        {{ yuan('dzje', 'wan_yuan') }} as received_amount_yuan,
        ---------- dates
        {{ dt('dzrq', 'yyyy-MM-dd') }} as received_date,
        ---------- timestamps
        {{ ts('updateTime', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
