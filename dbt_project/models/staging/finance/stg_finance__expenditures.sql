-- 由 `./run sync` 从 connectors/subsystems/finance.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('finance', 'expenditures') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('ZCLSH') }} as expenditure_id,
        {{ code('YSXMBH') }} as budget_item_id,
        {{ code('BMDM') }} as org_unit_code,
        {{ code('JJFLDM') }} as economic_class_code,
        {{ code('JBRGH') }} as handler_staff_id,
        ---------- text
        {{ txt('PZH') }} as voucher_number,
        {{ txt('JJFLMC') }} as economic_class_name,
        {{ txt('ZY') }} as summary,
        {{ txt('ZT') }} as status,
        ---------- money (yuan)
        {{ yuan('JE', 'yuan') }} as amount_yuan,
        ---------- dates
        {{ dt('ZCRQ', 'yyyy-MM-dd') }} as expenditure_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
