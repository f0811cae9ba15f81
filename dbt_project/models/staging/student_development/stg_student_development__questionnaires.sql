-- 由 `./run sync` 从 connectors/subsystems/student_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('student_development', 'questionnaires') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('DJID') }} as response_id,
        {{ code('XH') }} as student_id,
        {{ code('WJDM') }} as questionnaire_code,
        ---------- text
        {{ txt('WJMC') }} as questionnaire_name,
        ---------- numbers
        {{ int_('XXDL') }} as learning_motivation_score,
        {{ int_('ZYRT') }} as major_identity_score,
        {{ int_('SHSY') }} as social_adaptation_score,
        {{ int_('XLJK') }} as mental_health_score,
        {{ int_('ZYGH') }} as career_planning_score,
        {{ int_('ZF') }} as total_score,
        ---------- timestamps
        {{ ts('TJSJ', 'yyyy-MM-dd HH:mm:ss') }} as submitted_at,
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
