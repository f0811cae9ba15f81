-- 学校基本数据 filled by QMO per academic year and indicator (money in yuan).
select
    base.academic_year,
    base.indicator_code,
    base.indicator_name,
    base.indicator_value,
    base.indicator_unit,
    base.reported_value,
    base.reported_unit,
    base.filling_org_unit_code,
    base.updated_at
from {{ ref('stg_decision__base_data') }} as base
