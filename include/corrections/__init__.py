"""Audit and correction (Article 11, Annex 1 数据采集更正表; issue 11).

- `requests`: a correction request is validated against raw's latest version and the subsystem
  file's field declarations, then recorded with its form number (GY-2026-0012);
- `chain`: who signs (organising and managing department heads, the vice-president in
  charge, 质管办) and their Airflow users;
- `workflow`: the steps as recorded, the overlay (the only writer), confirmed-at-source;
- `form`: Annex 1 as HTML and PDF, filled from the recorded steps;
- `operators`: the human-in-the-loop step the approval DAG (`dags/corrections.py`) uses.

数据采集更正：申请校验、审批链、审计覆盖层、附件1 更正表。
"""

from functools import partial

from include.warehouse import connection

# The workflow's connection: as xiaoben_quality (connection.PURPOSES; roles.py says why).
connect = partial(connection.connect, purpose="corrections")
