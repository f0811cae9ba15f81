-- Budget execution per budget item: adjusted budget against paid and approved spending
-- (reversed vouchers excluded).
with

budgets as (

    select * from {{ ref('stg_finance__budgets') }}

),

spending as (

    select
        budget_item_id,
        sum(amount_yuan) filter (where status = '已支付') as paid_yuan,
        sum(amount_yuan) filter (where status in ('已审核', '已支付')) as committed_yuan,
        count(*) filter (where status = '已冲销') as reversed_vouchers
    from {{ ref('stg_finance__expenditures') }}
    group by budget_item_id

)

select
    budgets.budget_item_id,
    budgets.budget_item_name,
    budgets.budget_year,
    budgets.org_unit_code,
    budgets.funding_source,
    budgets.economic_class_code,
    budgets.economic_class_name,
    budgets.initial_budget_yuan,
    coalesce(budgets.adjusted_budget_yuan, budgets.initial_budget_yuan) as budget_yuan,
    coalesce(spending.paid_yuan, 0) as paid_yuan,
    coalesce(spending.committed_yuan, 0) as committed_yuan,
    coalesce(spending.reversed_vouchers, 0) as reversed_vouchers,
    round(
        coalesce(spending.committed_yuan, 0)
        / nullif(coalesce(budgets.adjusted_budget_yuan, budgets.initial_budget_yuan), 0),
        4
    ) as execution_rate
from budgets
left join spending on budgets.budget_item_id = spending.budget_item_id
