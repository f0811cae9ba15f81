-- 由 `./run sync` 从 connectors/subsystems/student_development.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('student_development', 'counsellor_records') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('JLID') }} as record_id,
        {{ code('FDYGH') }} as counsellor_staff_id,
        {{ code('XH') }} as student_id,
        ---------- text
        {{ txt('THLX') }} as talk_type,
        {{ txt('THNR') }} as summary,
        {{ txt('GZDJ') }} as concern_level,
        ---------- dates
        {{ dt('THRQ', 'yyyy-MM-dd') }} as talk_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
