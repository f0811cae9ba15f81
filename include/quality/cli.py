"""`xiaoben quality …` — quality checks, holds and warnings from the command line.

python -m include.quality run [--layer raw|marts] [--dataset raw_academic.students ...]
python -m include.quality holds [--open]
python -m include.quality release --pull N --by EMAIL --reason TEXT
python -m include.quality ack WARNING_ID --by EMAIL [--note TEXT]
python -m include.quality resolve WARNING_ID --by EMAIL --how TEXT
python -m include.quality digest [--day YYYY-MM-DD]
python -m include.quality report SUBSYSTEM DAY
python -m include.quality generate [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def _print(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xiaoben quality", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("run", help="verify contracts and store the results")
    p.add_argument("--layer", choices=["raw", "marts"], default="raw")
    p.add_argument("--dataset", nargs="*", help="only these datasets (schema.table)")
    p = sub.add_parser("holds", help="held batches: what, why, who released")
    p.add_argument("--open", action="store_true", help="only batches still on hold")
    p = sub.add_parser("release", help="a quality administrator accepts a held batch")
    p.add_argument("--pull", type=int, required=True)
    p.add_argument("--by", required=True, help="the quality administrator's e-mail")
    p.add_argument("--reason", required=True)
    p = sub.add_parser("ack", help="acknowledge a warning")
    p.add_argument("warning_id", type=int)
    p.add_argument("--by", required=True)
    p.add_argument("--note", default="")
    p = sub.add_parser("resolve", help="resolve a warning by hand")
    p.add_argument("warning_id", type=int)
    p.add_argument("--by", required=True)
    p.add_argument("--how", required=True)
    p = sub.add_parser("digest", help="escalate overdue warnings and send today's digests")
    p.add_argument("--day", type=date.fromisoformat)
    p = sub.add_parser("report", help="what was wrong with a subsystem on a day, who was told")
    p.add_argument("subsystem")
    p.add_argument("day", type=date.fromisoformat)
    p = sub.add_parser("generate", help="write the raw contracts from connectors/subsystems")
    p.add_argument("--check", action="store_true", help="only report contracts out of date")
    args = parser.parse_args(argv)

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
            print(f"不能放行: {exc}", file=sys.stderr)
            return 2
    elif args.action == "ack":
        warnings.acknowledge(args.warning_id, args.by, args.note)
    elif args.action == "resolve":
        warnings.resolve(args.warning_id, args.by, args.how)
    elif args.action == "digest":
        _print({"escalated": warnings.escalate(), "sent": digest.send_digests(args.day)})
    elif args.action == "report":
        print(report.format_report(args.subsystem, args.day,
                                   report.what_was_wrong(args.subsystem, args.day)))  # fmt: skip
    elif args.action == "generate":
        stale = contracts.write_all(check_only=args.check)
        for path in stale:
            print(("过期 (out of date): " if args.check else "已写入 (written): ") + str(path))
        return 1 if args.check and stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
