-- 由 `./run sync` 从 connectors/subsystems/online_teaching.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('online_teaching', 'course_control_points') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('termCode') }} as term_id,
        {{ code('pointCode') }} as point_code,
        {{ code('status') }} as achievement_status,
        {{ code('filledBy') }} as filler_staff_id,
        ---------- text
        {{ txt('pointName') }} as point_name,
        ---------- numbers
        {{ int_('id') }} as record_id,
        {{ int_('courseId') }} as online_course_id,
        {{ num('target', 4) }} as target_value,
        {{ num('actual', 4) }} as actual_value,
        ---------- timestamps
        {{ ts('updateTime', 'epoch_ms') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
