with

source as (

    select * from {{ publishable('academic', 'timetable') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('kb_id') }} as timetable_id,
        {{ code('jxb_id') }} as section_id,
        {{ code('kch') }} as course_code,
        {{ code('xqm') }} as term_code,
        {{ code('jsgh') }} as teacher_staff_id,
        {{ term_id() }} as term_id,
        ---------- text
        {{ txt('jcs') }} as periods,
        {{ txt('zcd') }} as weeks,
        {{ txt('cdmc') }} as room,
        ---------- numbers
        {{ int_('xnm') }} as academic_year_start,
        {{ int_('xqj') }} as weekday,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
