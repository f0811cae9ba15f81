-- 由 `./run sync` 从 connectors/subsystems/assets.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('assets', 'assets') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('zcbh') }} as asset_id,
        {{ code('flh') }} as category_code,
        {{ code('sybmdm') }} as org_unit_code,
        {{ code('syrgh') }} as custodian_staff_id,
        ---------- text
        {{ txt('zcmc') }} as asset_name,
        {{ txt('flmc') }} as category_name,
        {{ txt('ggxh') }} as model_spec,
        {{ txt('cfdd') }} as location,
        {{ txt('zczt') }} as usage_status,
        {{ txt('jfly') }} as funding_source,
        ---------- numbers
        {{ int_('sl') }} as quantity,
        ---------- money (yuan)
        {{ yuan('dj', 'fen') }} as unit_price_yuan,
        {{ yuan('je', 'fen') }} as amount_yuan,
        ---------- booleans
        {{ flag('sfjxky') }} as is_teaching_research_equipment,
        ---------- dates
        {{ dt('gzrq', 'yyyy-MM-dd') }} as purchase_date,
        {{ dt('rzrq', 'yyyy-MM-dd') }} as booked_date,
        ---------- timestamps
        {{ ts('updated_at', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
