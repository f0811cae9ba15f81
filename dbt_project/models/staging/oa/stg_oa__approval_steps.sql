-- 由 `./run sync` 从 connectors/subsystems/oa.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('oa', 'approval_steps') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('lzid') }} as step_id,
        {{ code('wjid') }} as document_id,
        {{ code('clrgh') }} as handler_staff_id,
        ---------- text
        {{ txt('hjmc') }} as step_name,
        {{ txt('clrxm') }} as handler_name,
        {{ txt('cljg') }} as result,
        {{ txt('clyj') }} as opinion,
        ---------- numbers
        {{ int_('bzxh') }} as step_no,
        ---------- timestamps
        {{ ts('clsj', 'iso') }} as handled_at,
        {{ ts('modified', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
