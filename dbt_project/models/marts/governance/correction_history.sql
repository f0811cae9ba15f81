-- Every corrected datum (Annex 1): the value as landed, the corrected value, the form number,
-- every approval with its signature, and 质管办's verification; a refused or timed-out request
-- is listed with its reason and never reaches the overlay (so no staging value changes).
with

requests as (

    select * from {{ source('corrections', 'requests') }}

),

items as (

    select * from {{ source('corrections', 'items') }}

),

steps as (

    select * from {{ source('corrections', 'steps') }}

),

overlay as (

    select * from {{ source('corrections', 'overlay') }}

),

approvals as (

    select
        request_id,
        jsonb_agg(
            jsonb_build_object(
                'step', step_kind,
                'name', assignee_name,
                'user', responded_by,
                'decision', decision,
                'opinion', opinion,
                'at', at,
                'signature', signature
            )
            order by at, step_id
        ) as approvals,
        max(case when step_kind = 'vice_president' and decision = 'approve' then at end)
            as vice_president_approved_at,
        max(case when step_kind = 'quality_office' and decision = 'approve' then assignee_name end)
            as verified_by,
        max(case when step_kind = 'quality_office' and decision = 'approve' then at end)
            as verified_at
    from steps
    where step_kind not in ('submit', 'source_confirmed', 'source_still_old')
    group by request_id

)

select
    requests.form_no,
    requests.request_id,
    requests.status,
    requests.status_reason,
    requests.reporting_department,
    items.subsystem as subsystem_id,
    items.resource,
    items.source_key,
    items.field as source_field,
    items.column_name,
    items.old_value as original_value,
    items.new_value as corrected_value,
    requests.reason,
    requests.filler_name,
    requests.submitted_at,
    approvals.vice_president_approved_at,
    approvals.verified_by,
    approvals.verified_at,
    requests.closed_at,
    overlay.item_id is not null as applied,
    overlay.confirmed_at_source_at,
    overlay.source_warned_at,
    requests.request_hash,
    coalesce(approvals.approvals, '[]'::jsonb) as approvals
from items
inner join requests on items.request_id = requests.request_id
left join approvals on items.request_id = approvals.request_id
left join overlay on items.item_id = overlay.item_id
