-- 由 `./run sync` 从 connectors/subsystems/dingtalk.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('dingtalk', 'users') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('userid') }} as user_id,
        {{ code('unionid') }} as union_id,
        {{ code('job_number') }} as staff_id,
        {{ code('mobile') }} as phone,
        ---------- text
        {{ txt('name') }} as name,
        {{ txt('title') }} as job_title,
        ---------- booleans
        {{ flag('active') }} as is_active,
        ---------- dates
        {{ dt('hired_date', 'epoch_ms') }} as hired_date,
        ---------- documents
        {{ jsonb_field('dept_id_list') }} as dingtalk_dept_ids,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
