-- 由 `./run sync` 从 connectors/subsystems/research.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('research', 'projects') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('xmbh') }} as project_id,
        {{ code('fzrgh') }} as leader_staff_id,
        {{ code('bmdm') }} as org_unit_code,
        ---------- text
        {{ txt('xmmc') }} as project_name,
        {{ txt('xmlb') }} as project_category,
        {{ txt('xmjb') }} as project_level,
        {{ txt('lxdw') }} as approving_body,
        {{ txt('fzrxm') }} as leader_name,
        {{ txt('xmzt') }} as status,
        ---------- money (yuan)
        {{ yuan('htjf', 'wan_yuan') }} as approved_funding_yuan,
        {{ yuan('dzjf', 'wan_yuan') }} as received_funding_yuan,
        ---------- dates
        {{ dt('lxrq', 'yyyy-MM-dd') }} as approved_date,
        {{ dt('jhjxrq', 'yyyy-MM-dd') }} as planned_end_date,
        {{ dt('jxrq', 'yyyy-MM-dd') }} as actual_end_date,
        ---------- timestamps
        {{ ts('updateTime', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
