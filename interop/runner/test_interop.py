#!/usr/bin/env python3
"""`make test-interop` / `make test-interop-be`: runs every vector runner and
sums their `N passed, N failed, N skipped` lines.

    test_interop.py LINES --c NAME CMD... [--c NAME CMD...] [--oracle KNOWN] [--testee BIN]
                    [--same-as NAME]

--c       a C vector runner command (the LINES file is appended); NAME labels it
--oracle  run the Python oracle (KNOWN: its known-failures file)
--testee  BIN [KNOWN]: run a codec testee through the testee protocol
          (skipped when absent; KNOWN: its known-failures file)
--same-as every C runner must report exactly the per-vector outcomes of the
          runner NAME (used for the big-endian runs against the native one)
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed, (\d+) skipped")
TIMEOUT = 600


OPTIONS = ("--c", "--oracle", "--testee", "--same-as")


def parse_args(argv):
    lines, runs, same_as = argv[0], [], None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--c":
            name, cmd = argv[i + 1], []
            i += 2
            while i < len(argv) and argv[i] not in OPTIONS:
                cmd.append(argv[i])
                i += 1
            runs.append(("c", name, cmd + [lines, "--verbose"]))
            continue
        if a == "--oracle":
            runs.append(("py", "oracle", [sys.executable, os.path.join(HERE, "run_vectors.py"), "--impl", "oracle",
                                          "--known-failures", argv[i + 1]]))
        elif a == "--testee":
            # --testee BIN [KNOWN-FAILURES]
            binary, kf = argv[i + 1], []
            if i + 2 < len(argv) and argv[i + 2] not in OPTIONS:
                kf = ["--known-failures", argv[i + 2]]
                i += 1
            runs.append(("py", "testee", [sys.executable, os.path.join(HERE, "run_vectors.py"), "--impl", "testee"]
                         + kf + ["--", binary]))
        elif a == "--same-as":
            same_as = argv[i + 1]
        else:
            raise SystemExit("test_interop.py: unknown argument %s" % a)
        i += 2
    return runs, same_as


def outcomes(out):
    """Per-vector outcome lines of a verbose C run, endianness label removed."""
    return [ln for ln in out.splitlines() if ln.startswith(("ok ", "FAIL ", "SKIP "))]


def main():
    runs, same_as = parse_args(sys.argv[1:])
    tot = [0, 0, 0]
    bad = False
    seen = {}
    for kind, name, cmd in runs:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timed out after %ds" % TIMEOUT, -1
        except OSError as e:
            out, rc = str(e), -1
        for ln in out.splitlines():
            if not ln.startswith("ok "):
                print("  [%s] %s" % (name, ln))
        m = None
        for m in SUMMARY.finditer(out):
            pass
        if m is None:
            print("%s: no summary line (exit %d)" % (name, rc))
            bad = True
            tot[1] += 1
            continue
        nums = [int(x) for x in m.groups()]
        k = re.search(r"\((\d+) known failures\)", out)
        known = " (%s known failures, listed in interop/known-failures/)" % k.group(1) if k else ""
        print("%-28s %d passed, %d failed, %d skipped%s" % (name + ":", *nums, known))
        for k in range(3):
            tot[k] += nums[k]
        if rc != 0 or nums[1]:
            bad = True
        if kind == "c":
            seen[name] = outcomes(out)
    if same_as:
        ref = seen.get(same_as)
        for name, oc in seen.items():
            if name != same_as and oc != ref:
                diff = [x for x in oc if x not in (ref or [])][:5]
                print("%s: per-vector outcomes differ from %s, e.g. %s" % (name, same_as, diff))
                bad = True
            elif name != same_as:
                print("%s: same per-vector outcomes as %s (%d vectors)" % (name, same_as, len(oc)))
    print("interop total: %d passed, %d failed, %d skipped" % tuple(tot))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
