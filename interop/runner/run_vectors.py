#!/usr/bin/env python3
"""Runs the tofu golden vectors against an implementation.

    run_vectors.py --impl oracle                 the conformance oracle (pure Python)
    run_vectors.py --impl testee -- ARGV...      any codec testee (spec/testee.md)
    run_vectors.py --emit-lines FILE             write the line form the C runner reads

Vectors are loaded (and schema-checked) by tofu_conformance.vectors, the
loader the conformance suite uses too. Per test the runner asks the
implementation what the vector describes (VECTORS.md, "What a runner
checks") and compares. A set that is absent is reported as skipped, as is an
operation the implementation does not support.

A known-failures file (--known-failures; one test id `set:tcId` per line,
`#` comments) lists vectors expected to fail: a listed vector that fails is
counted as a known failure, one that passes is counted as passed with a NOTE
asking to remove it (it does not fail the run: the implementation may be
fixed by its owner at any time). Exit status 0 when nothing failed.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "conformance"))

from tofu_conformance import vectors as V  # noqa: E402

HDR_KEYS = [("channelNumber", "channel_number"), ("proto", "proto"), ("status", "status"),
            ("messageId", "message_id"), ("textHeadersLen", "text_headers_len"), ("bodyLen", "body_len")]


class Skip(Exception):
    pass


class Fail(Exception):
    pass


# ---------------------------------------------------------------- backends


class OracleBackend:
    """Answers testee-protocol requests from the oracle's functions."""

    name = "oracle"

    def __init__(self):
        from tofu_conformance import oracle

        self.o = oracle

    def call(self, op, **kw):
        o = self.o
        try:
            if op == "decode_header":
                return "ok", o.decode_header(bytes.fromhex(kw["bytes"]))
            if op == "check_received":
                err = o.check_received(kw["header"])
                return ("error", err) if err else ("ok", True)
            if op == "parse_frame":
                h, th, body, used = o.parse_frame(bytes.fromhex(kw["bytes"]))
                return "ok", {"header": h, "text_headers": th.hex(), "body": body.hex(), "consumed": used}
            if op == "stream_decode":
                frames, err, at_b = o.stream_decode([bytes.fromhex(c) for c in kw["chunks"]], kw["validate"],
                                                    kw["max_text_headers_len"], kw["max_body_len"])
                return "ok", {"frames": [{"header": h, "text_headers": th.hex(), "body": b.hex()}
                                         for h, th, b in frames], "error": err, "at_boundary": at_b}
            if op == "encode_frame":
                return "ok", o.encode_frame(kw["header"], bytes.fromhex(kw["text_headers"]),
                                            bytes.fromhex(kw["body"])).hex()
            if op == "iterate_headers":
                return "ok", [[n.hex(), v.hex()] for n, v in o.iterate_headers(bytes.fromhex(kw["bytes"]))]
            if op == "validate_headers":
                r = o.validate_headers_at(bytes.fromhex(kw["bytes"]))
                return ("ok", True) if r is None else ("error", r[0], r[1])
            if op == "serialise_headers":
                return "ok", o.serialise_headers([(bytes.fromhex(n), bytes.fromhex(v))
                                                  for n, v in kw["headers"]]).hex()
            if op == "parse_address":
                if "value" in kw:
                    a = o.parse_address(bytes.fromhex(kw["value"]))
                else:
                    a = o.find_address(bytes.fromhex(kw["headers"]))
                return "ok", {k: (v.hex() if isinstance(v, bytes) else v) for k, v in a.items()}
        except o.CodecError as e:
            return "error", e.name
        raise Skip("oracle backend: no operation %s" % op)

    def close(self):
        pass


class TesteeBackend:
    """A codec testee process spoken to through the testee protocol."""

    def __init__(self, argv):
        from tofu_conformance import testee

        self.t = testee
        self.proc = testee.CodecTestee(argv)
        self.name = "testee " + " ".join(argv)

    def call(self, op, **kw):
        try:
            r = self.proc.call(op, **kw)
        except self.t.Skip as e:
            raise Skip(str(e))
        except self.t.TesteeError as e:
            raise Fail("testee: %s" % str(e).replace("\n", " | ")[:400])
        except Exception as e:  # noqa: BLE001 - a broken testee must not stop the run
            # The client may be left without a process; the next request
            # starts a fresh testee.
            self.proc.proc = None
            raise Fail("testee client error %s: %s" % (type(e).__name__, e))
        if "error" in r:
            return ("error", r["error"], r["offset"]) if "offset" in r else ("error", r["error"])
        return "ok", r["ok"]

    def close(self):
        self.proc.close()


# ---------------------------------------------------------------- checks


def expect_eq(what, got, want):
    if got != want:
        raise Fail("%s: got %s, want %s" % (what, _short(got), _short(want)))


def _short(x):
    s = repr(x)
    return s if len(s) < 200 else s[:200] + "...(%d chars)" % len(s)


def verdict_ok(test, got_err):
    """Does an implementation verdict (None or class) match the test result?"""
    res = test["result"]
    if res == "valid":
        return got_err is None
    if res == "invalid":
        return got_err == test["errorClass"]
    return got_err is None or got_err == test.get("errorClass")


def want_verdict(test):
    return test.get("errorClass") if test["result"] == "invalid" else (
        "valid" if test["result"] == "valid" else "valid or %s" % test.get("errorClass"))


def run_frame(b, t):
    frame = t["frame"]
    n = len(frame) // 2
    dec = t.get("decoded")
    r = b.call("decode_header", bytes=frame)
    if n < 16:
        expect_eq("decode_header", r[:2], ("error", "incomplete"))
        verdict = "incomplete"
    else:
        if r[0] != "ok":
            raise Fail("decode_header: %s" % (r,))
        h = r[1]
        for vk, pk in HDR_KEYS:
            expect_eq("header " + pk, h.get(pk), dec["header"][vk])
        r = b.call("check_received", header=h)
        verdict = None if r[0] == "ok" else r[1]
        if r[0] == "ok" and r[1] is not True:
            raise Fail("check_received: ok but %r" % (r[1],))
        pr = b.call("parse_frame", bytes=frame)
        if pr[0] == "error":
            expect_eq("parse_frame error", pr[1], "incomplete")
            if verdict is None:
                verdict = "incomplete"
        else:
            p = pr[1]
            expect_eq("parse_frame consumed", p["consumed"], n)
            for vk, pk in HDR_KEYS:
                expect_eq("parse_frame header " + pk, p["header"].get(pk), dec["header"][vk])
            if "textHeaders" in dec:
                expect_eq("body", p["body"], dec["body"])
                it = b.call("iterate_headers", bytes=p["text_headers"])
                expect_eq("text headers", it, ("ok", dec["textHeaders"]))
                if verdict is None:
                    enc = b.call("encode_frame", header=h, text_headers=p["text_headers"], body=p["body"])
                    expect_eq("encode_frame", enc, ("ok", frame))
    if not verdict_ok(t, verdict):
        raise Fail("verdict %s, want %s" % (verdict or "valid", want_verdict(t)))
    # The same bytes through a validating stream decoder, whole and split.
    splits = [[frame]]
    if 0 < n <= 64:
        splits.append([frame[i:i + 2] for i in range(0, len(frame), 2)])
    elif n > 64:
        splits.append([frame[:2 * 7], frame[2 * 7:2 * 17], frame[2 * 17:]])
    for chunks in splits:
        r = b.call("stream_decode", chunks=chunks, validate=True, max_text_headers_len=65535, max_body_len=65535)
        expect_eq("stream_decode", r[0], "ok")
        s = r[1]
        nchunks = "%d chunk(s)" % len(chunks)
        if s["error"] is not None:
            sv = s["error"]
        elif s["frames"]:
            sv = None
        else:
            sv = "incomplete"
        if sv == "incomplete":
            expect_eq("stream_decode at_boundary (%s)" % nchunks, s["at_boundary"], n == 0)
        if not verdict_ok(t, sv) or sv != verdict:
            raise Fail("stream_decode (%s) verdict %s, direct verdict %s" % (nchunks, sv or "valid",
                                                                             verdict or "valid"))
        if sv is None:
            expect_eq("stream_decode frames (%s)" % nchunks, len(s["frames"]), 1)
            f = s["frames"][0]
            expect_eq("stream_decode body (%s)" % nchunks, f["body"], dec["body"])
            expect_eq("stream_decode at_boundary (%s)" % nchunks, s["at_boundary"], True)


def run_iterate(b, t):
    expect_eq("iterate_headers", b.call("iterate_headers", bytes=t["input"]), ("ok", t["headers"]))


def run_validate(b, t):
    r = b.call("validate_headers", bytes=t["input"])
    got = None if r[0] == "ok" else r[1]
    if not verdict_ok(t, got):
        raise Fail("validate_headers: %s, want %s" % (got or "valid", want_verdict(t)))
    if got and "errorOffset" in t and len(r) > 2:
        expect_eq("error offset", r[2], t["errorOffset"])


def run_append(b, t):
    r = b.call("serialise_headers", headers=t["fields"])
    got = None if r[0] == "ok" else r[1]
    if not verdict_ok(t, got):
        raise Fail("serialise_headers: %s, want %s" % (got or "valid", want_verdict(t)))
    if got is None:
        expect_eq("block", r[1], t["block"])


def _addr_fields(d):
    return {k: d.get(k) for k in ("kind", "host", "port", "path", "abstract") if k in d}


def run_address(b, t):
    r = b.call("parse_address", value=t["value"])
    got = None if r[0] == "ok" else r[1]
    if not verdict_ok(t, got):
        raise Fail("parse_address: %s, want %s" % (got or "valid", want_verdict(t)))
    if got is None:
        expect_eq("address", _addr_fields(r[1]), t["decoded"])
    # The same value inside a header block, when the iterator would hand it
    # over unchanged (no CR LF, no SP/HTAB at its ends).
    v = bytes.fromhex(t["value"])
    if v and b"\r\n" not in v and v[:1] not in (b" ", b"\t") and v[-1:] not in (b" ", b"\t", b"\r"):
        for name, listen in ((b"~connect_to", False), (b"~listen_on", True)):
            blk = (b"x:y\r\n" + name + b":" + v + b"\r\n" + b"~connect_to:uds|/other\r\n").hex()
            r = b.call("parse_address", headers=blk)
            got = None if r[0] == "ok" else r[1]
            if not verdict_ok(t, got):
                raise Fail("parse_address(headers, %s): %s, want %s" % (name.decode(), got or "valid",
                                                                         want_verdict(t)))
            if got is None:
                expect_eq("address listen", r[1].get("listen"), listen)
                expect_eq("address (headers)", _addr_fields(r[1]), t["decoded"])


def run_lookup(b, t):
    r = b.call("parse_address", headers=t["input"])
    got = None if r[0] == "ok" else r[1]
    if not verdict_ok(t, got):
        raise Fail("parse_address(headers): %s, want %s" % (got or "valid", want_verdict(t)))
    if got is None:
        want = dict(t["decoded"])
        expect_eq("address listen", r[1].get("listen"), want.pop("listen"))
        expect_eq("address", _addr_fields(r[1]), want)


def run_stream(b, t):
    data = t["stream"]
    n = len(data) // 2
    splits = [[data]]
    if 0 < n <= 2048:
        splits.append([data[i:i + 2] for i in range(0, len(data), 2)])
    if n > 1:
        splits.append([data[:2 * 13], data[2 * 13:2 * 29], data[2 * 29:]])
    for chunks in splits:
        label = "stream_decode (%d chunk(s))" % len(chunks)
        r = b.call("stream_decode", chunks=chunks, validate=t["validate"],
                   max_text_headers_len=t["maxTextHeadersLen"], max_body_len=t["maxBodyLen"])
        expect_eq(label, r[0], "ok")
        s = r[1]
        got_err = s["error"]
        if got_err is None and not s["at_boundary"]:
            got_err = "incomplete"
        if not verdict_ok(t, got_err):
            raise Fail("%s: %s, want %s" % (label, got_err or "valid", want_verdict(t)))
        expect_eq(label + " at_boundary", s["at_boundary"], t["atBoundary"])
        expect_eq(label + " number of frames", len(s["frames"]), len(t["frames"]))
        for i, (g, w) in enumerate(zip(s["frames"], t["frames"])):
            for vk, pk in HDR_KEYS:
                expect_eq("%s frame %d %s" % (label, i, pk), g["header"].get(pk), w["header"][vk])
            expect_eq("%s frame %d body" % (label, i), g["body"], w["body"])
            if len(chunks) == 1:
                expect_eq("%s frame %d text headers" % (label, i), b.call("iterate_headers", bytes=g["text_headers"]),
                          ("ok", w["textHeaders"]))


RUNNERS = {
    "stream": run_stream,
    "address-lookup": run_lookup,
    "frame": run_frame,
    "textheaders-iterate": run_iterate,
    "textheaders-validate": run_validate,
    "textheaders-append": run_append,
    "address": run_address,
}


def read_known_failures(path):
    known = {}
    if not path:
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            body = line.split("#", 1)
            tid = body[0].strip()
            if tid:
                known[tid] = body[1].strip() if len(body) > 1 else ""
    return known


def run(backend, sets, known, verbose=False):
    passed = failed = skipped = xfail = 0
    for vs in sets:
        if vs.skip_reason:
            print("SKIP set %s: %s" % (vs.name, vs.skip_reason))
            skipped += 1
            continue
        fn = RUNNERS[vs.test_type]
        for t in vs.tests:
            tid = vs.test_id(t)
            try:
                fn(backend, t)
            except Skip as e:
                skipped += 1
                if verbose:
                    print("SKIP %s: %s" % (tid, e))
                continue
            except Fail as e:
                if tid in known:
                    xfail += 1
                    if verbose:
                        print("KNOWN %s (%s): %s" % (tid, known[tid], e))
                else:
                    failed += 1
                    print("FAIL %s [%s]: %s" % (tid, t["comment"][:80], e))
                continue
            passed += 1
            if tid in known:
                # Not a failure: the implementation may have been fixed by
                # someone else meanwhile; the list is then out of date.
                print("NOTE %s: listed as a known failure but passes; remove it from the list" % tid)
    return passed, failed, skipped, xfail


# ---------------------------------------------------------------- line form


def _x(h):
    return "x" + h


def emit_lines(sets, out):
    """The line form of interop/runner/vector_runner.c: one test per line,
    tokens separated by one space, hex byte strings prefixed by 'x' (so an
    empty one is `x`), '-' for an absent item."""
    n = 0
    with open(out, "w", encoding="ascii") as f:
        f.write("# tofu vectors, line form for tofu-vector-runner (run_vectors.py --emit-lines)\n")
        for vs in sets:
            if vs.skip_reason:
                f.write("S %s %s\n" % (vs.name, vs.skip_reason.replace("\n", " ")))
                continue
            for t in vs.tests:
                tid = vs.test_id(t)
                head = [tid, t["result"], t.get("errorClass", "-")]
                if vs.test_type == "frame":
                    tok = ["F"] + head + [_x(t["frame"])]
                    d = t.get("decoded")
                    if d:
                        h = d["header"]
                        tok += ["1"] + [str(h[k]) for k in ("channelNumber", "proto", "opcode", "origin", "more",
                                                             "internalA", "internalB", "status", "messageId",
                                                             "textHeadersLen", "bodyLen")]
                    else:
                        tok += ["0"]
                    if d and "textHeaders" in d:
                        tok += ["1", str(len(d["textHeaders"]))]
                        for nm, v in d["textHeaders"]:
                            tok += [_x(nm), _x(v)]
                        tok += [_x(d["body"])]
                    else:
                        tok += ["0"]
                elif vs.test_type == "textheaders-iterate":
                    tok = ["I"] + head + [_x(t["input"]), str(len(t["headers"]))]
                    for nm, v in t["headers"]:
                        tok += [_x(nm), _x(v)]
                elif vs.test_type == "textheaders-validate":
                    tok = ["V"] + head + [_x(t["input"]), str(t.get("errorOffset", -1))]
                elif vs.test_type == "textheaders-append":
                    tok = ["A"] + head + [str(len(t["fields"]))]
                    for nm, v in t["fields"]:
                        tok += [_x(nm), _x(v)]
                    tok += [_x(t["block"]) if "block" in t else "-"]
                elif vs.test_type == "address":
                    tok = ["D"] + head + [_x(t["value"])]
                    d = t.get("decoded")
                    if d is None:
                        tok += ["-"]
                    elif d["kind"] == "tcp":
                        tok += ["tcp", _x(d["host"]), str(d["port"])]
                    else:
                        tok += ["uds", _x(d["path"]), "1" if d["abstract"] else "0"]
                    tok += [_x(t["formatted"]) if "formatted" in t else "-"]
                elif vs.test_type == "stream":
                    tok = ["T"] + head + [_x(t["stream"]), "1" if t["validate"] else "0", str(t["maxTextHeadersLen"]),
                                          str(t["maxBodyLen"]), "1" if t["atBoundary"] else "0",
                                          str(len(t["frames"]))]
                    for fr in t["frames"]:
                        h = fr["header"]
                        tok += [str(h[k]) for k in ("channelNumber", "proto", "status", "messageId", "textHeadersLen",
                                                    "bodyLen")]
                        tok += [str(len(fr["textHeaders"]))]
                        for nm, v in fr["textHeaders"]:
                            tok += [_x(nm), _x(v)]
                        tok += [_x(fr["body"])]
                elif vs.test_type == "address-lookup":
                    tok = ["L"] + head + [_x(t["input"])]
                    d = t.get("decoded")
                    if d is None:
                        tok += ["-"]
                    elif d["kind"] == "tcp":
                        tok += ["tcp", _x(d["host"]), str(d["port"])]
                    else:
                        tok += ["uds", _x(d["path"]), "1" if d["abstract"] else "0"]
                    if d is not None:
                        tok += ["1" if d["listen"] else "0"]
                else:  # pragma: no cover - the schema limits the types
                    raise SystemExit("unknown test type %s" % vs.test_type)
                f.write(" ".join(tok) + "\n")
                n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description="run the tofu golden vectors")
    ap.add_argument("--impl", choices=["oracle", "testee"])
    ap.add_argument("--emit-lines", metavar="FILE")
    ap.add_argument("--vectors", default=V.OUR_DIR, help="our vector directory")
    ap.add_argument("--zig-vectors", default=None, help="Zig tofu sets (default $TOFU_VECTORS_DIR or ../shared/interop)")
    ap.add_argument("--known-failures", metavar="FILE")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("argv", nargs="*", help="testee command line (after --)")
    a = ap.parse_args()
    sets = V.load_all(a.vectors, a.zig_vectors)
    if a.emit_lines:
        n = emit_lines(sets, a.emit_lines)
        print("run_vectors: %d vectors written to %s" % (n, a.emit_lines))
        return 0
    if a.impl == "oracle":
        backend = OracleBackend()
    elif a.impl == "testee":
        if not a.argv:
            ap.error("--impl testee needs the testee command line after --")
        if not os.path.exists(a.argv[0]):
            print("run_vectors: testee: 0 passed, 0 failed, 1 skipped (testee %s not built)" % a.argv[0])
            return 0
        backend = TesteeBackend(a.argv)
    else:
        ap.error("give --impl or --emit-lines")
    try:
        p, f, s, k = run(backend, sets, read_known_failures(a.known_failures), a.verbose)
    finally:
        backend.close()
    extra = " (%d known failures)" % k if k else ""
    print("run_vectors: %s: %d passed, %d failed, %d skipped%s" % (backend.name, p, f, s, extra))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
