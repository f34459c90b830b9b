#!/usr/bin/env python3
"""A codec testee (spec/testee.md) in Python, driving the suite's reference
oracle. It is the worked example for porters: replace the `oracle` calls with
your implementation's and the suite tests your codec.

  conformance/run --impl oracle
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tofu_conformance import oracle  # noqa: E402


def hx(b):
    return bytes(b).hex()


def unhex(s):
    return bytes.fromhex(s)


def addr(a):
    out = {"kind": a["kind"]}
    if a["kind"] == "tcp":
        out.update(host=hx(a["host"]), port=a["port"])
    else:
        out.update(path=hx(a["path"]), abstract=a["abstract"])
    if "listen" in a:
        out["listen"] = a["listen"]
    return out


def frame(h, th, body):
    return {"header": h, "text_headers": hx(th), "body": hx(body)}


def handle(r):
    op = r["op"]
    if op == "caps":
        return {"name": "tofu-conformance oracle", "version": "1"}
    if op == "encode_header":
        return hx(oracle.encode_header(r["header"]))
    if op == "decode_header":
        return oracle.decode_header(unhex(r["bytes"]))
    if op == "check_received":
        err = oracle.check_received(r["header"])
        if err:
            raise oracle.CodecError(err)
        return True
    if op == "encode_frame":
        return hx(oracle.encode_frame(r["header"], unhex(r["text_headers"]), unhex(r["body"])))
    if op == "parse_frame":
        h, th, body, used = oracle.parse_frame(unhex(r["bytes"]))
        return dict(frame(h, th, body), consumed=used)
    if op == "stream_decode":
        frames, err, at_b = oracle.stream_decode([unhex(c) for c in r["chunks"]], r["validate"],
                                                 r["max_text_headers_len"], r["max_body_len"])
        return {"frames": [frame(*f) for f in frames], "error": err, "at_boundary": at_b}
    if op == "iterate_headers":
        return [[hx(n), hx(v)] for n, v in oracle.iterate_headers(unhex(r["bytes"]))]
    if op == "validate_headers":
        err = oracle.validate_headers_at(unhex(r["bytes"]))
        if err:
            return {"error": err[0], "offset": err[1]}
        return True
    if op == "serialise_headers":
        pairs = [(unhex(n), unhex(v)) for n, v in r["headers"]]
        if r.get("keep_going"):
            block, errors = oracle.serialise_keep_going(pairs, r.get("cap"))
            return {"block": hx(block), "errors": errors}
        return hx(oracle.serialise_headers(pairs, r.get("cap")))
    if op == "format_address":
        a = dict(r)
        for k in ("host", "path"):
            if k in a:
                a[k] = unhex(a[k])
        return hx(oracle.format_address(a))
    if op == "parse_address":
        if "value" in r:
            return addr(oracle.parse_address(unhex(r["value"])))
        return addr(oracle.find_address(unhex(r["headers"])))
    return None


def main():
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = inp.read(4)
        if len(head) < 4:
            return 0
        req = json.loads(inp.read(struct.unpack(">I", head)[0]))
        try:
            res = handle(req)
            if isinstance(res, dict) and "error" in res and req["op"] == "validate_headers":
                resp = res
            else:
                resp = {"unsupported": True} if res is None else {"ok": res}
        except oracle.CodecError as e:
            resp = {"error": e.name}
        data = json.dumps(resp).encode()
        out.write(struct.pack(">I", len(data)) + data)
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
