#!/usr/bin/env python3
"""Which requirement IDs of a conformance profile are cited by a set of tests.

Reads the profile table of spec/tofu-wire.md (WIRE-11.1: ranges in document
order) and conformance/tofu_conformance/requirements.json, then looks for
each ID of the chosen profile in the given test files.

  req_coverage.py --profile codec codec/test/*.c     exit 1 if any is uncited
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def profile_ids(profile):
    with open(os.path.join(ROOT, "conformance/tofu_conformance/requirements.json")) as f:
        order = [r["id"] for r in json.load(f)["requirements"]]
    with open(os.path.join(ROOT, "spec/tofu-wire.md"), encoding="utf-8") as f:
        md = f.read()
    row = re.search(r"^\| \*\*" + re.escape(profile) + r"\*\* \|[^|]*\| (.*) \|$", md, re.M)
    if not row:
        sys.exit(f"req_coverage: profile {profile!r} not found in WIRE-11.1")
    ids = []
    for part in row.group(1).split(";"):
        part = part.strip()
        m = re.fullmatch(r"(WIRE-[\d.]+)(?:[–-]([\d.]+))?", part)
        if not m:
            sys.exit(f"req_coverage: cannot read range {part!r}")
        first = m.group(1)
        last = "WIRE-" + m.group(2) if m.group(2) else first
        i, j = order.index(first), order.index(last)
        ids.extend(order[i : j + 1])
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    text = ""
    for p in args.files:
        with open(p, encoding="utf-8", errors="replace") as f:
            text += f.read()
    cited = set(re.findall(r"WIRE-\d+(?:\.\d+)+", text))
    ids = profile_ids(args.profile)
    missing = [i for i in ids if i not in cited]
    print(f"req-coverage: profile {args.profile}: {len(ids) - len(missing)} of {len(ids)} requirement IDs cited by {len(args.files)} files")
    for i in missing:
        print(f"  not cited: {i}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
