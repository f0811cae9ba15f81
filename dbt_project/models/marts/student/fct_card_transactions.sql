{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['transacted_date']}],
    )
}}
-- Campus-card transactions (一卡通流水), amounts in yuan; spending_yuan is signed (消费 +,
-- 退费 −, 充值 0). The cardholder is linked through the account's 学工号. Offline terminals
-- upload late, so rows are merged by booking (load) time, not transaction time.
with

transactions as (

    select * from {{ ref('stg_campus_card__transactions') }}
    {% if is_incremental() -%}
        where loaded_at > (select coalesce(max(t.loaded_at), '-infinity') from {{ this }} as t)
    {%- endif %}

),

accounts as (

    select * from {{ ref('stg_campus_card__accounts') }}

),

codes as (

    select * from {{ ref('card_transaction_codes') }}

),

merchants as (

    select * from {{ ref('stg_campus_card__merchants') }}

)

select
    transactions.transaction_id,
    transactions.account_id,
    coalesce(accounts.person_number, transactions.person_number) as person_number,
    case accounts.customer_type_code when '1' then 'student' when '2' then 'staff' end as person_type,
    accounts.org_unit_code,
    transactions.transaction_code,
    coalesce(transactions.transaction_name, codes.name_zh) as transaction_name,
    transactions.amount_yuan,
    transactions.amount_yuan * coalesce(codes.spending_sign, 0) as spending_yuan,
    transactions.balance_after_yuan,
    transactions.transacted_at,
    (transactions.transacted_at at time zone 'Asia/Shanghai')::date as transacted_date,
    transactions.booked_at,
    transactions.merchant_id,
    merchants.merchant_type,
    coalesce(transactions.is_offline, false) as is_offline,
    transactions.loaded_at,
    transactions.source_key
from transactions
left join accounts on transactions.account_id = accounts.account_id
left join codes on transactions.transaction_code = codes.code
left join merchants on transactions.merchant_id = merchants.merchant_id
