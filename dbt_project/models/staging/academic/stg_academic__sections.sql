with

source as (

    select * from {{ publishable('academic', 'sections') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('jxb_id') }} as section_id,
        {{ code('kch') }} as course_code,
        {{ code('xqm') }} as term_code,
        {{ code('jsgh') }} as teacher_staff_id,
        {{ code('bh_id') }} as class_id,
        {{ term_id() }} as term_id,
        ---------- text
        {{ txt('jxbmc') }} as section_name,
        {{ txt('kcmc') }} as course_name,
        {{ txt('jsxm') }} as teacher_name,
        ---------- numbers
        {{ int_('xnm') }} as academic_year_start,
        {{ int_('jxbrs') }} as headcount,
        ---------- timestamps
        {{ ts('gxsj', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
