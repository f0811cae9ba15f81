{{
    config(
        materialized='incremental',
        unique_key='source_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source_key'], 'unique': true}, {'columns': ['loaded_at']}],
    )
}}

with

source as (

    select * from {{ publishable('campus_card', 'transactions', incremental=true) }} as raw_rows
    where {{ newer_than_stored('raw_rows') }}

),

renamed as (

    select
        ---------- ids and codes
        {{ code('BackJnl') }} as transaction_id,
        {{ code('TranJnl') }} as terminal_serial,
        {{ code('AccNum') }} as account_id,
        {{ code('CardNo') }} as card_number,
        {{ code('StuEmpNo') }} as person_number,
        {{ code('TranCode') }} as transaction_code,
        {{ code('TermNo') }} as terminal_id,
        {{ code('MercAcc') }} as merchant_id,
        ---------- text
        {{ txt('TranName') }} as transaction_name,
        ---------- money (yuan)
        {{ yuan('TranAmt', 'fen') }} as amount_yuan,
        {{ yuan('CardBal', 'fen') }} as balance_after_yuan,
        ---------- booleans
        {{ flag('OffLine') }} as is_offline,
        ---------- timestamps
        {{ ts('JnDateTime', 'yyyyMMddHHmmss') }} as transacted_at,
        {{ ts('EffectTime', 'yyyyMMddHHmmss') }} as booked_at,
        ---------- lineage
        correction_forms,
        current_timestamp as loaded_at,
        {{ lineage_columns() }}

    from source

)

select * from renamed
