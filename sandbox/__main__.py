"""``python -m sandbox serve --port 8765 --seed 2026 --scale 10000 ...``"""

from __future__ import annotations

import argparse
import json
import sys

from .core import Sandbox
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="校园沙箱：模拟学院的14个子系统接口"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="启动沙箱 HTTP 服务")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8765)
    run.add_argument("--seed", type=int, default=2026)
    run.add_argument("--scale", type=int, default=10000, help="在校生人数 (200-50000)")
    run.add_argument("--start", default="2026-09-01", help="学期开始日期")
    run.add_argument("--days", type=int, default=21, help="时钟从开学起已走过的天数")
    run.add_argument(
        "--profile",
        choices=["realistic", "clean"],
        default="clean",
        help="realistic：有缺陷记录、身份噪声、少量请求故障、一个迟报系统和一个被暂扣的批次"
        "（主流程使用）；clean：各系统数据完美（默认）",
    )
    run.add_argument("--faults", help='故障配置 JSON 文件，如 {"http_5xx": 0.02}（覆盖 profile）')
    commands.add_parser("examples", help="重新生成 API.md 中每个子系统的请求与响应示例")
    args = parser.parse_args(argv)
    if args.command == "examples":
        from .examples import write

        write()
        return 0
    faults = None
    if args.faults:
        with open(args.faults, encoding="utf-8") as fh:
            faults = json.load(fh)
    sandbox = Sandbox(args.seed, args.scale, args.start, args.days, faults, profile=args.profile)
    sandbox.warm()  # so the first requests of a benchmark are not the slow ones
    serve(sandbox, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
