-- 由 `./run sync` 从 connectors/subsystems/campus_card.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('campus_card', 'accounts') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('AccNum') }} as account_id,
        {{ code('CardNo') }} as card_number,
        {{ code('StuEmpNo') }} as person_number,
        {{ code('CustType') }} as customer_type_code,
        {{ code('DeptCode') }} as org_unit_code,
        {{ code('CardStatus') }} as card_status_code,
        ---------- text
        {{ txt('CustName') }} as name,
        ---------- money (yuan)
        {{ yuan('CardBalance', 'fen') }} as balance_yuan,
        ---------- dates
        {{ dt('OpenDate', 'yyyyMMdd') }} as opened_date,
        ---------- timestamps
        {{ ts('UpdateTime', 'yyyyMMddHHmmss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
