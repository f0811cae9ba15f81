"""Quality checks and early warnings (Articles 4, 10, 11): issue 6 of 校本数据中心.

- `catalog`   the contracts under `soda/contracts/`, the classes of `soda/check_classes.yml`
- `contracts` generates the raw contracts from the connector files (committed; a test
              keeps them in sync)
- `verify`    runs the contracts with Soda's Python API and stores every result (`quality.check_*`)
- `holds`     write–audit–publish: failed blocking checks hold a pull; release by re-check or
              by a quality administrator's acceptance
- `warnings`  data and indicator warnings (预警) with their lifecycle and escalation
- `digest`    one e-mail per person per day through Airflow's SMTP connection
- `report`    "what was wrong with subsystem X on day D, and who was told"
- `cli`       the command line (`python -m include.quality …`)
"""
