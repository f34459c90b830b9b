#!/usr/bin/env python3
"""A transparent codec testee (spec/testee.md) that records the conformance
suite's traffic as fuzz seeds.

    record_testee.py OUTDIR -- REAL-TESTEE ARGV...

Every request is forwarded unchanged to the real testee and its answer
returned unchanged; the inputs the request carries are written, named by
their SHA-1, into OUTDIR/<harness>/ in that harness's input format:
  decode_header, parse_frame, encode_frame  -> header
  stream_decode                             -> stream (control prefix + bytes), engine
  iterate_headers                           -> th_iter
  validate_headers, serialise_headers       -> th_validate
  parse_address                             -> address
`make fuzz-record` runs the suite through it and merges the finds
(`-merge=1` keeps only inputs that add coverage)."""
import hashlib
import json
import os
import struct
import subprocess
import sys


def save(out, harness, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def header_bytes(h):
    return struct.pack(">HBBQHH", h.get("channel_number", 0) & 0xFFFF, h.get("proto", 0) & 0xFF,
                       h.get("status", 0) & 0xFF, h.get("message_id", 0) & (2**64 - 1),
                       h.get("text_headers_len", 0) & 0xFFFF, h.get("body_len", 0) & 0xFFFF)


def record(out, req):
    op = req.get("op")
    hx = bytes.fromhex
    if op in ("decode_header", "parse_frame"):
        save(out, "header", hx(req["bytes"]))
    elif op == "encode_frame":
        th, body = hx(req.get("text_headers", "")), hx(req.get("body", ""))
        h = dict(req.get("header", {}), text_headers_len=len(th), body_len=len(body))
        save(out, "header", header_bytes(h) + th + body)
    elif op == "stream_decode":
        chunks = [hx(c) for c in req.get("chunks", [])]
        data = b"".join(chunks)
        save(out, "engine", data)
        lens = [len(c) for c in chunks[:-1]]
        if len(lens) <= 64 and all(n <= 255 for n in lens):
            flags = (1 if req.get("validate") else 0) | 2
            prefix = bytes([flags]) + struct.pack(">HH", req.get("max_text_headers_len", 65535),
                                                  req.get("max_body_len", 65535))
            save(out, "stream", prefix + bytes([len(lens)]) + bytes(lens) + data)
    elif op == "iterate_headers":
        save(out, "th_iter", hx(req["bytes"]))
    elif op == "validate_headers":
        save(out, "th_validate", hx(req["bytes"]))
    elif op == "serialise_headers":
        save(out, "th_validate", b"\x1f".join(hx(x) for pair in req.get("headers", []) for x in pair))
    elif op == "parse_address":
        save(out, "address", hx(req.get("value") or req.get("headers") or ""))


def read_msg(f):
    n = f.read(4)
    if len(n) < 4:
        return None
    return f.read(struct.unpack(">I", n)[0])


def main():
    out = sys.argv[1]
    argv = sys.argv[sys.argv.index("--") + 1:]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    inp, outp = sys.stdin.buffer, sys.stdout.buffer
    while True:
        msg = read_msg(inp)
        if msg is None:
            break
        try:
            record(out, json.loads(msg))
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # a request we cannot read is still forwarded
        child.stdin.write(struct.pack(">I", len(msg)) + msg)
        child.stdin.flush()
        resp = read_msg(child.stdout)
        if resp is None:
            break
        outp.write(struct.pack(">I", len(resp)) + resp)
        outp.flush()
    child.stdin.close()
    sys.exit(child.wait())


if __name__ == "__main__":
    main()
