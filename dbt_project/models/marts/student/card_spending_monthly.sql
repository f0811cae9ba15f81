-- Campus-card spending per calendar month (Asia/Shanghai, by transaction time), cardholder
-- type and unit: 消费 minus 退费, plus 充值 separately, in yuan.
select
    to_char(transacted_date, 'YYYY-MM') as calendar_month,
    coalesce(person_type, 'unknown') as person_type,
    org_unit_code,
    sum(spending_yuan) as spending_yuan,
    sum(amount_yuan) filter (where transaction_code = '15') as consumption_yuan,
    sum(amount_yuan) filter (where transaction_code = '23') as refund_yuan,
    sum(amount_yuan) filter (where transaction_code = '30') as top_up_yuan,
    count(*) filter (where transaction_code = '15') as consumption_count,
    count(distinct account_id) filter (where transaction_code = '15') as spending_accounts
from {{ ref('fct_card_transactions') }}
group by 1, 2, 3
