#!/usr/bin/env python3
"""Totals of fuzz/campaigns.log per harness (libFuzzer and AFL++ runs):
campaigns, seconds, executions, best exec/s, last coverage line."""
import collections
import re
import sys


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fuzz/campaigns.log"
    tot = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            h = p[1]
            t = tot.setdefault(h, {"runs": 0, "secs": 0, "execs": 0, "eps": 0.0, "last": ""})
            t["runs"] += 1
            t["secs"] += int(p[2].rstrip("s") or 0)
            kv = dict(x.split("=", 1) for x in p[3:] if "=" in x)
            t["execs"] += int(kv.get("execs") or 0)
            t["eps"] = max(t["eps"], float(kv.get("exec/s") or 0))
            t["last"] = " ".join(x for x in p[3:] if "=" not in x) or \
                " ".join(f"{k}={v}" for k, v in kv.items() if k in ("edges", "corpus", "crashes"))
    print(f"{'harness':<14}{'runs':>5}{'seconds':>9}{'executions':>14}{'best exec/s':>13}  last")
    all_execs = 0
    for h, t in tot.items():
        all_execs += t["execs"]
        print(f"{h:<14}{t['runs']:>5}{t['secs']:>9}{t['execs']:>14}{t['eps']:>13.0f}  {t['last']}")
    print(f"{'total':<14}{'':>5}{sum(t['secs'] for t in tot.values()):>9}{all_execs:>14}")


if __name__ == "__main__":
    main()
