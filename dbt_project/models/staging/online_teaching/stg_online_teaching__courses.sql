-- 由 `./run sync` 从 connectors/subsystems/online_teaching.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('online_teaching', 'courses') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('kch') }} as course_code,
        {{ code('schoolCode') }} as org_unit_code,
        {{ code('leaderGh') }} as leader_staff_id,
        ---------- text
        {{ txt('name') }} as course_name,
        {{ txt('level') }} as construction_level,
        ---------- numbers
        {{ int_('courseId') }} as online_course_id,
        {{ int_('status') }} as status_code,
        {{ int_('resourceCount') }} as resource_count,
        {{ int_('videoMinutes') }} as video_minutes,
        {{ int_('studentCount') }} as enrolled_count,
        ---------- timestamps
        {{ ts('createTime', 'epoch_ms') }} as created_at,
        {{ ts('updateTime', 'epoch_ms') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
