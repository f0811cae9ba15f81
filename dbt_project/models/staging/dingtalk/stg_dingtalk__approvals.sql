with

source as (

    select * from {{ publishable('dingtalk', 'approvals') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('originator_userid') }} as originator_user_id,
        {{ code('originator_dept_id') }} as originator_dept_id,
        {{ code('status') }} as status,
        {{ code('result') }} as result,
        {{ code('business_id') }} as business_id,
        {{ code('biz_action') }} as biz_action,
        ---------- text
        {{ txt('title') }} as title,
        {{ txt('originator_dept_name') }} as originator_dept_name,
        ---------- timestamps
        {{ ts('create_time', 'yyyy-MM-dd HH:mm:ss') }} as created_at,
        {{ ts('finish_time', 'yyyy-MM-dd HH:mm:ss') }} as finished_at,
        ---------- documents
        {{ jsonb_field('form_component_values') }} as form_values,
        {{ jsonb_field('operation_records') }} as operation_records,
        {{ jsonb_field('tasks') }} as tasks,
        ---------- derived
        coalesce(nullif(payload ->> 'process_instance_id', ''), source_key) as process_instance_id,
        nullif(substring(payload ->> 'title' from '提交的(.+)$'), '') as approval_type,
        {{ text_array('attached_process_instance_ids') }} as attached_instance_ids,
        {{ text_array('approver_userids') }} as approver_user_ids,
        {{ text_array('cc_userids') }} as cc_user_ids,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
