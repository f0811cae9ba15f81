"""分析报告命令行：python -m include.reports term 2026-2027-1 [--department 教务处] [--school]

Builds, registers and mails the reports of one period, and prints where the files are.
"""

from __future__ import annotations

import argparse
import sys

from include.reports import deliver
from include.reports.periods import PeriodError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m include.reports", description="生成、登记并发送某一周期的分析报告"
    )
    ap.add_argument(
        "period_kind",
        choices=["month", "term", "year"],
        help="周期类型：month 月 / term 学期 / year 学年",
    )
    ap.add_argument("period_id", help="周期，如 2026-09、2026-2027-1、2026-2027")
    ap.add_argument("--department", help="只生成该部门的报告（默认：全部部门及学校报告）")
    ap.add_argument("--school", action="store_true", help="只生成学校人才培养状态分析报告")
    ap.add_argument("--no-mail", action="store_true", help="只生成与登记，不发送邮件")
    ap.add_argument("--resend", action="store_true", help="本周期已发送过也再发送")
    args = ap.parse_args(argv)
    opts = {"send_mail": not args.no_mail, "force": args.resend}
    try:
        if args.school:
            results = [deliver.produce("school", args.period_kind, args.period_id, **opts)]
        elif args.department:
            results = [
                deliver.produce(
                    "department", args.period_kind, args.period_id, args.department, **opts
                )
            ]
        else:
            results = deliver.produce_all(args.period_kind, args.period_id, **opts)
    except PeriodError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    for r in results:
        mail = (
            "已发送"
            if r["sent"]
            else "本周期已发送过，未重发"
            if r["skipped_as_already_sent"]
            else "未发送"
        )
        print(
            f"{r['title']}：{r['figures']} 个数字（{r['refused']} 个无法溯源未印出），"
            f"{r['findings']} 条发现；邮件{mail}\n  PDF  {r['pdf']}\n  HTML {r['html']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
