-- 由 `./run sync` 从 connectors/subsystems/research.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('research', 'papers') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('lwbh') }} as paper_id,
        {{ code('dyzzgh') }} as first_author_staff_id,
        {{ code('bmdm') }} as org_unit_code,
        ---------- text
        {{ txt('lwtm') }} as title,
        {{ txt('dyzzxm') }} as first_author_name,
        {{ txt('qtzz') }} as other_authors,
        {{ txt('kwmc') }} as journal_name,
        {{ txt('jqh') }} as volume_issue,
        {{ txt('slqk') }} as indexing,
        ---------- dates
        {{ dt('fbrq', 'yyyy-MM-dd') }} as published_date,
        ---------- timestamps
        {{ ts('updateTime', 'iso') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
