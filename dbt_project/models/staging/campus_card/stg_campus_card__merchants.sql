-- 由 `./run sync` 从 connectors/subsystems/campus_card.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('campus_card', 'merchants') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('MercAcc') }} as merchant_id,
        ---------- text
        {{ txt('MercName') }} as merchant_name,
        {{ txt('MercType') }} as merchant_type,
        {{ txt('Area') }} as area,
        ---------- timestamps
        {{ ts('UpdateTime', 'yyyyMMddHHmmss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
