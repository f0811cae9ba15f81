-- OA documents with their handling time (拟稿 to 办结) and number of approval steps.
with

steps as (

    select
        document_id,
        count(*) as step_count,
        count(*) filter (where result = '退回') as returned_steps
    from {{ ref('stg_oa__approval_steps') }}
    group by document_id

)

select
    documents.document_id,
    documents.title,
    documents.document_number,
    documents.document_type,
    documents.org_unit_code,
    documents.drafter_staff_id,
    documents.urgency,
    documents.status,
    documents.drafted_at,
    documents.completed_at,
    round(extract(epoch from documents.completed_at - documents.drafted_at) / 86400.0, 2) as handling_days,
    coalesce(steps.step_count, 0) as step_count,
    coalesce(steps.returned_steps, 0) as returned_steps
from {{ ref('stg_oa__documents') }} as documents
left join steps on documents.document_id = steps.document_id
