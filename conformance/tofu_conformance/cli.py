"""The conformance runner: python3 -m tofu_conformance [options] [ID patterns]

Runs the cases whose IDs match the patterns (fnmatch: `WIRE-4.*`, `WIRE-7.2`)
against the implementation given by --impl, and ends with the line
`N passed, N failed, N skipped`. Exit status 0 only when nothing unexpected
happened: no failing MUST case (no failing SHOULD case either with --strict)
outside the known-failures file, and no listed known failure that passed.
"""
import argparse
import fnmatch
import json
import os
import random
import sys
import time
import traceback
import xml.etree.ElementTree as ET

from . import cases  # noqa: F401  (registers every case)
from . import impls
from .registry import CASES, Ctx, attach_requirements, id_key, load_requirements
from .testee import CodecTestee, Skip, TesteeError

PROFILES = ("ci", "thorough")


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tofu_conformance", description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*", help="case ID patterns (fnmatch), default all")
    ap.add_argument("--impl", default="c", help="c, c-asan, oracle, or an implementation JSON file")
    ap.add_argument("--list", action="store_true", help="list the cases and requirement drift, run nothing")
    ap.add_argument("--strict", action="store_true", help="failing SHOULD/MAY cases count too")
    ap.add_argument("--known-failures", metavar="FILE",
                    help="case IDs expected to fail (default: the implementation's file)")
    ap.add_argument("--profile", choices=PROFILES, default="ci",
                    help="ci: derandomised, fewer examples; thorough: random seed, many examples")
    ap.add_argument("--seed", type=int, help="hypothesis seed (reproduces a thorough run)")
    ap.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    ap.add_argument("--json", metavar="FILE", help="write a JSON report")
    ap.add_argument("--trace", action="store_true", help="dump the exchange of every failing case")
    ap.add_argument("--group", action="append", help="only cases of this group (codec, wire, hostile, stateful)")
    return ap.parse_args(argv)


def read_known_failures(path):
    if not path or not os.path.exists(path):
        return set()
    out = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.add(line)
    return out


def select(args):
    chosen = []
    for cid in sorted(CASES, key=id_key):
        c = CASES[cid]
        if args.patterns and not any(fnmatch.fnmatchcase(cid, p) for p in args.patterns):
            continue
        if args.group and c.group not in args.group:
            continue
        chosen.append(c)
    return chosen


def do_list(chosen, reqs, orphans):
    by_group = {}
    for c in chosen:
        by_group.setdefault(c.group, 0)
        by_group[c.group] += 1
        mark = "  ERROR: no such requirement in requirements.json" if (reqs is not None and c.id in orphans) else ""
        print(f"{c.id:<14} {c.level or '?':<6} {c.group:<9} {c.needs:<5} {c.title}{mark}")
    print("cases per group: " + ", ".join(f"{g} {n}" for g, n in sorted(by_group.items())))
    if reqs is None:
        print("warning: requirements.json absent (spec/tofu-wire.md not generated yet); "
              "levels default to MUST", file=sys.stderr)
        return 0
    uncovered = [r for r in sorted(reqs, key=id_key) if r not in CASES]
    print(f"requirements: {len(reqs)}, with a case: {len(reqs) - len(uncovered)}, without: {len(uncovered)}")
    for r in uncovered:
        print(f"  not covered: {r} ({reqs[r]['level']}) {reqs[r]['text'][:90]}")
    bad = [c.id for c in chosen if c.id in orphans]
    for cid in bad:
        print(f"ERROR: case {cid} has no requirement in requirements.json (drift)", file=sys.stderr)
    return 1 if bad else 0


class PeerFactory:
    """Starts peer testees for wire cases (see peer.py)."""

    def __init__(self, argv, env):
        self.argv = argv
        self.env = env


def run_case(c, ctx):
    t0 = time.monotonic()
    try:
        c.func(ctx)
        status, detail = "pass", ""
    except Skip as e:
        status, detail = "skip", str(e)
    except AssertionError as e:
        notes = "\n".join(getattr(e, "__notes__", []))
        status, detail = "fail", (str(e) + ("\n" + notes if notes else ""))
    except TesteeError as e:
        notes = "\n".join(getattr(e, "__notes__", []))
        status, detail = "fail", f"testee broke the contract: {e}" + ("\n" + notes if notes else "")
    except Exception:  # a bug in the case or an unexpected answer shape
        status, detail = "fail", "case raised:\n" + traceback.format_exc(limit=6)
    return status, detail, time.monotonic() - t0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    reqs = load_requirements()
    orphans = attach_requirements(reqs)
    chosen = select(args)
    if args.list:
        return do_list(chosen, reqs, orphans)
    if not chosen:
        print("no case matches", file=sys.stderr)
        return 2

    impl = impls.load(args.impl)
    known = read_known_failures(args.known_failures or impl.known_failures)
    seed = args.seed
    if seed is None and args.profile == "thorough":
        seed = random.randrange(1 << 32)
    print(f"tofu conformance: impl {impl.name}, profile {args.profile}"
          + (f", seed {seed}" if seed is not None else ", derandomised"), file=sys.stderr)
    if reqs is None:
        print("warning: requirements.json absent; levels default to MUST", file=sys.stderr)
    elif any(c.id in orphans for c in chosen):
        print("warning: cases without a requirement (see --list): "
              + " ".join(c.id for c in chosen if c.id in orphans), file=sys.stderr)

    env = dict(os.environ)
    codec = CodecTestee(impl.codec, env) if impls.present(impl.codec) else None
    if codec is not None:
        try:
            caps = codec.request("caps")
            if "ok" in caps:
                print(f"codec testee: {caps['ok']}", file=sys.stderr)
        except Skip as e:
            print(f"codec testee: {e}", file=sys.stderr)
        except TesteeError as e:
            print(f"codec testee: {e}", file=sys.stderr)
            codec.close()
    elif impl.codec:
        print(f"codec testee {impl.codec[0]} not found: codec cases skip", file=sys.stderr)
    peers = PeerFactory(impl.peer if impls.present(impl.peer) else None, env)

    results = []
    counts = {"pass": 0, "fail": 0, "skip": 0}
    unexpected = []
    t_start = time.monotonic()
    for i, c in enumerate(chosen, 1):
        notes = []
        ctx = Ctx(impl, args.profile, seed, codec, peers, notes)
        if codec is not None:
            codec.trace.clear()
        status, detail, dt = run_case(c, ctx)
        if status == "pass" and ctx.partials:
            detail = "partial: " + "; ".join(ctx.partials)
        counts[status] += 1
        verdict = status
        counts_against = args.strict or c.level.startswith("MUST")
        if status == "fail" and c.id in known:
            verdict = "known failure"
        elif status == "fail" and not counts_against:
            verdict = f"fail ({c.level}, not counted without --strict)"
        elif status == "fail":
            unexpected.append((c.id, "failed"))
        elif status == "pass" and c.id in known:
            verdict = "PASS but listed as a known failure: remove it from the list"
            unexpected.append((c.id, "passed but is listed as a known failure"))
        print(f"[{i:>3}/{len(chosen)}] {c.id:<14} {verdict.upper() if verdict in ('pass', 'fail', 'skip') else verdict}"
              f" ({dt:.1f}s) {c.title}", file=sys.stderr)
        if detail:
            indent = "      "
            print(indent + detail.strip().replace("\n", "\n" + indent)[:4000], file=sys.stderr)
        trace = ""
        if status == "fail":
            parts = []
            if codec is not None and codec.trace:
                parts.append("codec testee exchange (last requests):\n" + codec.trace_text())
            if notes:
                parts.append("notes:\n" + "\n".join("  " + n for n in notes[-60:]))
            trace = "\n".join(parts)
            if args.trace and trace:
                print(trace, file=sys.stderr)
        results.append({"id": c.id, "group": c.group, "level": c.level, "requirement": c.text,
                        "title": c.title, "status": status, "verdict": verdict, "detail": detail,
                        "seconds": round(dt, 3), "trace": trace})
    if codec is not None:
        codec.close()
    elapsed = time.monotonic() - t_start

    for cid in sorted(known - {r["id"] for r in results if r["status"] == "fail"}):
        if cid not in CASES:
            print(f"note: known-failures lists {cid}, which is not a case", file=sys.stderr)
    if unexpected:
        print("unexpected: " + ", ".join(f"{cid} {why}" for cid, why in unexpected), file=sys.stderr)
    summary = f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"impl": impl.name, "profile": args.profile, "seed": seed, "strict": args.strict,
                       "seconds": round(elapsed, 1), "summary": summary, "counts": counts,
                       "unexpected": [{"id": a, "why": b} for a, b in unexpected],
                       "cases": results}, f, indent=1)
    if args.junit:
        write_junit(args.junit, impl.name, results, elapsed)
    print(f"({elapsed:.1f}s)", file=sys.stderr)
    print(summary)
    return 1 if unexpected else 0


def write_junit(path, impl_name, results, elapsed):
    suite = ET.Element("testsuite", name=f"tofu-conformance ({impl_name})", tests=str(len(results)),
                       failures=str(sum(r["status"] == "fail" for r in results)),
                       skipped=str(sum(r["status"] == "skip" for r in results)), time=f"{elapsed:.3f}")
    for r in results:
        tc = ET.SubElement(suite, "testcase", classname=f"tofu.{r['group']}", name=r["id"],
                           time=f"{r['seconds']:.3f}")
        if r["requirement"]:
            ET.SubElement(tc, "properties").append(
                ET.Element("property", name="requirement", value=f"({r['level']}) {r['requirement']}"))
        if r["status"] == "fail":
            el = ET.SubElement(tc, "failure", message=r["verdict"])
            el.text = r["detail"] + ("\n\n" + r["trace"] if r["trace"] else "")
        elif r["status"] == "skip":
            ET.SubElement(tc, "skipped", message=r["detail"][:500])
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
