# The platform image: the official Airflow image plus the project's exact pins and code.
# The campus sandbox is a tool for trying the platform, not part of it: the default target
# (`platform`) leaves it out; the `sandbox` target (used only by the compose stack's
# `sandbox` service) adds it.
FROM apache/airflow:3.3.2-python3.11 AS base

COPY --chown=airflow:root requirements.lock /opt/xiaoben/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /opt/xiaoben/requirements.lock

COPY --chown=airflow:root pyproject.toml README.md /opt/xiaoben/
COPY --chown=airflow:root connectors /opt/xiaoben/connectors
COPY --chown=airflow:root dags /opt/xiaoben/dags
COPY --chown=airflow:root dbt_project /opt/xiaoben/dbt_project
COPY --chown=airflow:root include /opt/xiaoben/include
COPY --chown=airflow:root soda /opt/xiaoben/soda
RUN pip install --no-cache-dir --no-deps -e /opt/xiaoben

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/xiaoben/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai \
    SODA_CORE_TELEMETRY_ENABLED=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1
WORKDIR /opt/xiaoben

FROM base AS sandbox
COPY --chown=airflow:root sandbox /opt/xiaoben/sandbox

FROM base AS platform
