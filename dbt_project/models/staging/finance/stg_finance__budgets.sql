-- 由 `./run sync` 从 connectors/subsystems/finance.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('finance', 'budgets') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('YSXMBH') }} as budget_item_id,
        {{ code('BMDM') }} as org_unit_code,
        {{ code('JJFLDM') }} as economic_class_code,
        ---------- text
        {{ txt('YSXMMC') }} as budget_item_name,
        {{ txt('BMMC') }} as org_unit_name,
        {{ txt('ZJLY') }} as funding_source,
        {{ txt('JJFLMC') }} as economic_class_name,
        ---------- numbers
        {{ int_('ND') }} as budget_year,
        ---------- money (yuan)
        {{ yuan('YSJE', 'yuan') }} as initial_budget_yuan,
        {{ yuan('TZJE', 'yuan') }} as adjusted_budget_yuan,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
