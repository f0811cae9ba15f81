-- Platform schemas that are not owned by dbt. Every statement is idempotent.
create schema if not exists landing;
comment on schema landing is '采集落地：拉取日志、拒收记录（平台自有，dbt 不写入）';
create schema if not exists quality;
comment on schema quality is '质量监控：Soda 检查结果、预警及其处理过程';
