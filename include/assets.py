"""The platform's own Airflow Assets, shared by the DAGs that produce and follow them.

Raw datasets are `raw_<id>.<resource>` (`connectors.dag_support.raw_asset`). After landing,
the quality audit publishes `quality.raw_audited`; the warehouse build follows it (so a batch
is held before any build can publish it: write–audit–publish) and produces `marts`, which the
mart audit follows and which produces `quality.warnings` for the daily digest.
"""

from __future__ import annotations

from airflow.sdk import Asset

RAW_AUDITED = Asset(
    name="quality.raw_audited", uri="postgres://warehouse:5432/xiaoben/quality/raw_audited"
)
MARTS = Asset(name="marts", group="warehouse")
WARNINGS = Asset(name="quality.warnings", uri="postgres://warehouse:5432/xiaoben/quality/warnings")
