-- 由 `./run sync` 从 connectors/subsystems/admissions.yml 生成，请勿手改 (generated from the subsystem file)
with

source as (

    select * from {{ publishable('admissions', 'applicants') }} as raw_rows

),

renamed as (

    select
        ---------- ids and codes
        {{ code('KSH') }} as applicant_id,
        {{ code('XBM') }} as sex_code,
        {{ code('MZM') }} as ethnicity_code,
        {{ code('SFZJH') }} as id_number,
        {{ code('SFDM') }} as province_code,
        {{ code('ZYZY1') }} as first_choice_major_code,
        {{ code('LQZYDM') }} as admitted_major_code,
        {{ code('LQZT') }} as admission_status_code,
        ---------- text
        {{ txt('XM') }} as name,
        {{ txt('KLMC') }} as subject_category,
        {{ txt('PCMC') }} as admission_batch,
        ---------- numbers
        {{ num('ZF', 1) }} as total_score,
        ---------- dates
        {{ dt('CSRQ', 'yyyyMMdd') }} as birth_date,
        ---------- timestamps
        {{ ts('GXSJ', 'yyyy-MM-dd HH:mm:ss') }} as updated_at,
        ---------- lineage
        {{ lineage_columns() }}

    from source

)

select * from renamed
