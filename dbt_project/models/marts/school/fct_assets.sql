-- Fixed assets (资产卡片) with their using unit; teaching and research equipment not yet
-- written off (已报废) counts towards 教学仪器设备值.
select
    assets.asset_id,
    assets.asset_name,
    assets.category_code,
    assets.category_name,
    assets.org_unit_code,
    assets.custodian_staff_id,
    assets.unit_price_yuan,
    assets.quantity,
    assets.amount_yuan,
    assets.purchase_date,
    assets.booked_date,
    assets.usage_status,
    assets.funding_source,
    coalesce(assets.is_teaching_research_equipment, false) as is_teaching_research_equipment,
    coalesce(assets.is_teaching_research_equipment, false)
    and coalesce(assets.usage_status, '') <> '已报废' as counts_as_teaching_equipment,
    assets.updated_at
from {{ ref('stg_assets__assets') }} as assets
