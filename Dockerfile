# The platform image: the official Airflow image plus the project's exact pins and code.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.lock /opt/xiaoben/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /opt/xiaoben/requirements.lock

COPY --chown=airflow:root . /opt/xiaoben
RUN pip install --no-cache-dir --no-deps -e /opt/xiaoben

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/xiaoben/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai \
    SODA_CORE_TELEMETRY_ENABLED=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1
WORKDIR /opt/xiaoben
