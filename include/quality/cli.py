"""`./run quality …` — 数据质量检查、暂扣批次与预警的命令行（信息中心、质管办使用）。

./run quality run [--layer raw|marts] [--dataset raw_academic.students ...]
./run quality holds [--open]
./run quality release --pull 批次号 --by 邮箱 --reason 理由
./run quality ack 预警编号 --by 邮箱 [--note 说明]
./run quality resolve 预警编号 --by 邮箱 --how 处理说明
./run quality digest [--day YYYY-MM-DD]
./run quality report 子系统 日期
./run quality generate [--check]

Every error is one Chinese line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date

import psycopg


class CliError(Exception):
    """A one-line Chinese message for the operator; exit status 2."""


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese headings and one-line Chinese errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str):
        raise CliError(f"{self.prog}：{_zh(message)}（用 --help 查看用法）")


def _zh(message: str) -> str:
    for en, zh in (
        ("the following arguments are required:", "缺少参数："),
        ("unrecognized arguments:", "无法识别的参数："),
        ("invalid choice:", "无效的选项："),
        ("choose from", "可选"),
        ("argument ", "参数 "),
        ("expected one argument", "需要一个值"),
    ):
        message = message.replace(en, zh)
    return message


def _positive_int(what: str):
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{what}应为正整数，收到“{text}”")
        return int(text)

    parse.__name__ = what
    return parse


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期格式不对：“{text}”，应为 YYYY-MM-DD，如 2026-09-22"
        ) from None


def _me() -> str:
    return f"{getpass.getuser()}（命令行）"


def _print(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="./run quality",
        description="数据质量检查、暂扣批次与预警（Quality checks, held batches and warnings）",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="命令", parser_class=_Parser)
    sub.title = "命令"
    c = sub.add_parser("run", help="执行数据契约检查并保存结果、开启或关闭数据预警")
    c.add_argument("--layer", choices=["raw", "marts"], default="raw",
                   help="检查哪一层：raw 原始层（默认）/ marts 数据集市")  # fmt: skip
    c.add_argument("--dataset", nargs="*", metavar="模式.表",
                   help="只检查这些数据集，如 raw_academic.students")  # fmt: skip
    c = sub.add_parser("holds", help="被暂扣的采集批次：什么、为什么、谁放行的")
    c.add_argument("--open", action="store_true", help="只列出仍在暂扣中的批次")
    c = sub.add_parser("release", help="质量管理员核实后放行一个暂扣批次")
    c.add_argument("--pull", type=_positive_int("批次号"), required=True, metavar="批次号",
                   help="暂扣的采集批次号")  # fmt: skip
    c.add_argument("--by", required=True, metavar="邮箱", help="质量管理员的邮箱")
    c.add_argument("--reason", required=True, metavar="理由", help="为什么接受这批数据")
    c = sub.add_parser("ack", help="确认预警（已知悉，正在处理）")
    c.add_argument("warning_id", type=_positive_int("预警编号"), metavar="预警编号")
    c.add_argument("--by", default=_me(), metavar="邮箱", help="确认人的邮箱（默认当前登录用户）")
    c.add_argument("--note", default="", metavar="说明", help="备注")
    c = sub.add_parser("resolve", help="关闭预警并说明如何解决")
    c.add_argument("warning_id", type=_positive_int("预警编号"), metavar="预警编号")
    c.add_argument("--by", required=True, metavar="邮箱", help="处理人的邮箱")
    c.add_argument("--how", required=True, metavar="处理说明", help="如何解决的")
    c = sub.add_parser("digest", help="升级逾期预警，发送今天的预警邮件（每人每天至多一封）")
    c.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="按哪一天发送（默认今天）")
    c = sub.add_parser("report", help="某子系统某日出了什么问题、告诉了谁（含指标预警）")
    c.add_argument("subsystem", metavar="子系统", help="子系统编号，如 academic")
    c.add_argument("day", type=_day, metavar="日期", help="YYYY-MM-DD")
    c = sub.add_parser("generate", help="根据连接器文件与 dbt 模型生成数据契约")
    c.add_argument("--check", action="store_true", help="只报告过期的契约，不写入")
    return p


def run(args: argparse.Namespace) -> int:
    from include.quality import contracts, digest, holds, report, verify, warnings

    if args.action == "run":
        result = verify.run(args.layer, "manual", datasets=args.dataset)
        result["warnings"] = warnings.sync_data_warnings(result["run_id"])
        _print(result)
    elif args.action == "holds":
        _print(holds.list_holds(open_only=args.open))
    elif args.action == "release":
        try:
            _print(holds.release(args.pull, args.by, args.reason))
        except holds.ReleaseError as exc:
            raise CliError(f"不能放行：{exc}") from None
    elif args.action == "ack":
        warnings.acknowledge(args.warning_id, args.by, args.note)
        print(f"预警 {args.warning_id} 已确认（{args.by}）")
    elif args.action == "resolve":
        warnings.resolve(args.warning_id, args.by, args.how)
        print(f"预警 {args.warning_id} 已关闭（{args.by}）")
    elif args.action == "digest":
        _print({"escalated": warnings.escalate(), "sent": digest.send_digests(args.day)})
    elif args.action == "report":
        rows = report.what_was_wrong(args.subsystem, args.day)
        indicators = report.indicator_warnings(args.subsystem, args.day)
        held = report.holds_on(args.subsystem, args.day)
        print(report.format_report(args.subsystem, args.day, rows, indicators, held))
    elif args.action == "generate":
        stale = contracts.write_all(check_only=args.check)
        for path in stale:
            print(("过期 (out of date): " if args.check else "已写入 (written): ") + str(path))
        return 1 if args.check and stale else 0
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parser().parse_args(argv))
    except CliError as exc:
        print(str(exc), file=sys.stderr)
    except ValueError as exc:  # the lifecycle's own Chinese messages (没有编号为 … 的预警)
        print(str(exc), file=sys.stderr)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"连不上数据仓库：{first}（先运行 ./run db start 或 ./run up）", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
