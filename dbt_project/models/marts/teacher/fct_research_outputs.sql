-- Research and social-service outputs per leading staff member: projects, papers, patents
-- and income receipts in one fact (amounts in yuan).
select
    'project' as output_type,
    '科研项目' as output_type_zh,
    project_id as output_id,
    project_name as output_name,
    leader_staff_id as staff_id,
    org_unit_code,
    approved_date as output_date,
    project_level as output_level,
    status,
    approved_funding_yuan as amount_yuan,
    updated_at
from {{ ref('stg_research__projects') }}
union all
select
    'paper',
    '论文',
    paper_id,
    title,
    first_author_staff_id,
    org_unit_code,
    published_date,
    indexing,
    null,
    null,
    updated_at
from {{ ref('stg_research__papers') }}
union all
select
    'patent',
    '专利',
    patent_id,
    patent_name,
    first_inventor_staff_id,
    org_unit_code,
    application_date,
    patent_type,
    status,
    null,
    updated_at
from {{ ref('stg_research__patents') }}
union all
select
    'social_service',
    '社会服务到款',
    receipt_id,
    project_name,
    leader_staff_id,
    org_unit_code,
    received_date,
    service_type,
    null,
    received_amount_yuan,
    updated_at
from {{ ref('stg_research__social_services') }}
