"""The suite's own test: does it notice a broken implementation?

For each TOFU_TESTEE_BREAK mode of our C testees, run the cases that mode
must break and require every one of them to FAIL, then run the same cases
with the testee unbroken and require them to pass (so a failure is caused
by the breakage, not by the case). Exit status 0 only if all of that holds.

  python3 -m tofu_conformance.teeth [--impl c]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# mode -> the cases that must fail when the testee is broken that way
TEETH = {
    # channel_number little-endian in both directions: a round trip cannot
    # see it (WIRE-2.1.4 passes), the byte-exact cases must
    "byteorder": ["WIRE-1.1.1", "WIRE-2.1.2", "WIRE-2.1.3", "WIRE-2.4.1"],
    "trim-names": ["WIRE-4.2.1", "WIRE-4.2.8"],
    "forge-origin": ["WIRE-7.1.2", "WIRE-7.1.6"],
    "crlf-inject": ["WIRE-4.4.5", "WIRE-4.4.9", "WIRE-10.2.4"],
    "lax-address": ["WIRE-5.2.2", "WIRE-10.2.1"],
    "more-anywhere": ["WIRE-7.1.4", "WIRE-7.1.6"],
}
# modes of the peer testee (engine)
PEER_TEETH = {
    "drop-tenth": ["WIRE-8.3.3", "WIRE-8.6.6", "WIRE-8.8.1"],
    "strip-bits": ["WIRE-2.2.2", "WIRE-7.1.7"],
    "no-echo-id": ["WIRE-7.4.3", "WIRE-5.1.5", "WIRE-8.8.2"],
}


def run(impl, ids, mode):
    env = dict(os.environ)
    env.pop("TOFU_TESTEE_BREAK", None)
    if mode:
        env["TOFU_TESTEE_BREAK"] = mode
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [sys.executable, "-m", "tofu_conformance", "--impl", impl, "--profile", "ci",
               "--known-failures", os.devnull, "--json", f.name] + ids
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        try:
            rep = json.load(open(f.name))
        except ValueError:
            raise SystemExit(f"teeth: runner produced no report for {mode}:\n{p.stderr.decode()[-3000:]}")
    return {c["id"]: c["status"] for c in rep["cases"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impl", default="c")
    args = ap.parse_args()
    ok = True
    modes = dict(TEETH, **PEER_TEETH)
    all_ids = sorted({i for ids in modes.values() for i in ids})
    clean = run(args.impl, all_ids, None)
    for cid in all_ids:
        if clean.get(cid) != "pass":
            print(f"teeth: {cid} does not pass with the unbroken testee ({clean.get(cid)}); "
                  "cannot judge its teeth", file=sys.stderr)
            ok = False
    for mode, ids in modes.items():
        got = run(args.impl, ids, mode)
        bad = [i for i in ids if got.get(i) != "fail"]
        if bad:
            ok = False
            print(f"teeth: TOFU_TESTEE_BREAK={mode}: NOT caught by " + ", ".join(
                f"{i} ({got.get(i)})" for i in bad), file=sys.stderr)
        else:
            print(f"teeth: TOFU_TESTEE_BREAK={mode}: caught by {', '.join(ids)}")
    print("teeth: ok" if ok else "teeth: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
