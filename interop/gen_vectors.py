#!/usr/bin/env python3
"""Generates the tofu golden vectors (interop/vectors/*.json).

Every expected result is computed here, independently of the C codec and of
the conformance oracle, from spec/tofu-wire.toml and the rules written down
in interop/VECTORS.md: headers are packed with struct ('>HBBQHH'), text
headers and addresses are modelled by the small functions below. Only the
standard library is used, so the generator runs anywhere Python 3.11 does.

    python3 interop/gen_vectors.py           # (re)write interop/vectors/
    python3 interop/gen_vectors.py --check   # exit 1 if a file is stale
"""

import argparse
import json
import os
import struct
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPEC = os.path.join(ROOT, "spec", "tofu-wire.toml")
OUT = os.path.join(HERE, "vectors")
SCHEMA_NAME = "tofu-vectors.schema.json"

with open(SPEC, "rb") as _f:
    WIRE = tomllib.load(_f)

SPEC_VERSION = WIRE["spec"]["version"]
SOURCE = {"name": "tofu-c interop/gen_vectors.py", "version": SPEC_VERSION}
OPCODES = {o["value"]: o for o in WIRE["opcodes"]}
ERRORS = {e["name"]: e["value"] for e in WIRE["errors"]}
LIMITS = WIRE["limits"]
MAX_PART = LIMITS["max_text_headers_len"]
assert MAX_PART == LIMITS["max_body_len"] == 65535
HDR_FMT = ">HBBQHH"
assert struct.calcsize(HDR_FMT) == WIRE["header"]["size"]
PROTO_BITS = {f["name"]: (f["bit"], f["width"]) for f in WIRE["proto"]["fields"]}
SEP = WIRE["text_headers"]["separator"].encode()
CRLF = WIRE["text_headers"]["line_end"].encode()
TRIM = bytes(WIRE["text_headers"]["value_trim"])
CONNECT_TO = WIRE["reserved_headers"]["connect_to"].encode()
LISTEN_ON = WIRE["reserved_headers"]["listen_on"].encode()
ADDR = WIRE["address"]

# Requirement ids of spec/tofu-wire.md each kind of vector exercises
# (checked against conformance/tofu_conformance/requirements.json by
# interop/test/test_vectors.py).
R = {
    "framing": ["WIRE-1.1.1", "WIRE-1.1.4", "WIRE-11.3.4"],
    "zero_parts": ["WIRE-1.1.3"],
    "max_parts": ["WIRE-1.3.1"],
    "header": ["WIRE-2.1.1", "WIRE-2.1.2", "WIRE-2.1.4"],
    "header_example": ["WIRE-2.1.3"],
    "annex_a": ["WIRE-2.4.1"],
    "proto": ["WIRE-2.2.1"],
    "opcodes": ["WIRE-3.1.1"],
    "incomplete": ["WIRE-1.1.2", "WIRE-3.3.2"],
    "check_order": ["WIRE-7.1.6"],
    "bad_opcode": ["WIRE-7.1.6", "WIRE-7.1.1", "WIRE-3.1.3"],
    "forged_origin": ["WIRE-7.1.6", "WIRE-7.1.2"],
    "nonzero_status": ["WIRE-7.1.6", "WIRE-7.1.3"],
    "more_not_allowed": ["WIRE-7.1.6", "WIRE-7.1.4"],
    "zero_response_id": ["WIRE-7.1.6", "WIRE-7.1.5"],
    "flags_ignored": ["WIRE-7.1.7", "WIRE-2.2.2", "WIRE-7.4.4"],
    "raw_headers": ["WIRE-7.4.1", "WIRE-4.3.6"],
    "iterate": ["WIRE-4.2.1"],
    "validate": ["WIRE-4.3.1"],
    "validate_error": ["WIRE-4.3.1", "WIRE-4.3.3"],
    "append": ["WIRE-4.4.1", "WIRE-4.4.9"],
    "empty_name": ["WIRE-4.4.2", "WIRE-4.4.8"],
    "bad_name_char": ["WIRE-4.4.3", "WIRE-4.4.8"],
    "empty_value": ["WIRE-4.4.4", "WIRE-4.4.8"],
    "bad_value_char": ["WIRE-4.4.5", "WIRE-4.4.8"],
    "value_not_canonical": ["WIRE-4.4.6", "WIRE-4.4.8"],
    "address": ["WIRE-5.2.1"],
    "address_format": ["WIRE-5.2.8"],
    "address_parts": ["WIRE-5.2.2"],
    "address_protocol": ["WIRE-5.2.3"],
    "address_host": ["WIRE-5.2.4", "WIRE-5.2.7"],
    "address_port": ["WIRE-5.2.5", "WIRE-5.2.7"],
    "address_path": ["WIRE-5.2.6"],
    "abstract": ["WIRE-5.4.5"],
    "lookup": ["WIRE-5.3.1", "WIRE-5.3.3", "WIRE-4.2.10"],
    "stream": ["WIRE-1.1.1", "WIRE-1.1.4", "WIRE-11.3.4"],
    "stream_refused": ["WIRE-1.2.4", "WIRE-7.3.1", "WIRE-7.3.4"],
    "limits": ["WIRE-7.2.1"],
    "address_missing": ["WIRE-5.3.2"],
}


def opcode_of(proto):
    return proto & 0x0F


def bit(proto, name):
    b, w = PROTO_BITS[name]
    return (proto >> b) & ((1 << w) - 1)


def make_proto(opcode, origin=0, more=0, internal_a=0, internal_b=0):
    vals = dict(opcode=opcode, origin=origin, more=more, internal_a=internal_a, internal_b=internal_b)
    p = 0
    for name, (b, w) in PROTO_BITS.items():
        p |= (vals[name] & ((1 << w) - 1)) << b
    return p


# ---------------------------------------------------------------- models


def failing_checks(proto, status, mid):
    """Every receive check a header fails, in the order they are applied."""
    op = opcode_of(proto)
    fails = []
    if op not in OPCODES or not OPCODES[op]["on_wire"]:
        fails.append("bad_opcode")
    if bit(proto, "origin"):
        fails.append("forged_origin")
    if status != 0:
        fails.append("nonzero_status")
    if op in OPCODES and bit(proto, "more") and OPCODES[op]["type"] != "regular":
        fails.append("more_not_allowed")
    if op in OPCODES and OPCODES[op]["role"] == "response" and mid == 0:
        fails.append("zero_response_id")
    return fails


def check_received(proto, status, mid):
    """The conforming-receiver verdict for a header: the first failing check."""
    fails = failing_checks(proto, status, mid)
    return fails[0] if fails else None


def th_iterate(buf):
    """What a caller gets calling the Zig-compatible iterator until null."""
    out, pos, n = [], 0, len(buf)
    while pos < n:
        end = buf.find(CRLF, pos)
        if end == pos:  # empty line: skipped
            pos += 2
            continue
        if end < 0:
            line, pos = buf[pos:], n
        else:
            line, pos = buf[pos:end], end + 2
        c = line.find(SEP)
        if c < 0:
            name, value = line, b""
        else:
            name, value = line[:c], line[c + 1 :].strip(TRIM)
        if not name:
            break
        out.append((name, value))
    return out


def is_name_byte(b):
    return 0x21 <= b <= 0x7E and b != SEP[0]


def is_value_byte(b):  # inside a value: VCHAR, obs-text, SP, HTAB
    return b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80


def th_validate(buf):
    """Strict validator: (error class, offset) or (None, None).

    A byte-at-a-time state machine; the first byte that cannot continue
    `name ":" OWS value OWS CRLF` decides the class (VECTORS.md)."""
    st = "line"
    for i, b in enumerate(buf):
        if st == "line":
            if b in (0x0D, 0x0A):
                return "empty_line", i
            if b == SEP[0]:
                return "empty_name", i
            if not is_name_byte(b):
                return "bad_name_char", i
            st = "name"
        elif st == "name":
            if b == SEP[0]:
                st = "ows"
            elif b in (0x0D, 0x0A):
                return "missing_colon", i
            elif not is_name_byte(b):
                return "bad_name_char", i
        elif st == "ows":
            if b in TRIM:
                continue
            if b in (0x0D, 0x0A):
                return "empty_value", i
            if not is_value_byte(b):
                return "bad_value_char", i
            st = "value"
        elif st == "value":
            if b == 0x0D:
                st = "cr"
            elif not is_value_byte(b):
                return "bad_value_char", i
        elif st == "cr":
            if b != 0x0A:
                return "bad_value_char", i - 1
            st = "line"
    n = len(buf)
    return {
        "line": (None, None),
        "name": ("missing_colon", n),
        "ows": ("empty_value", n),
        "value": ("missing_crlf", n),
        "cr": ("missing_crlf", n),
    }[st]


def th_append(fields):
    """Serialiser: (block, None) or (None, error class of the first bad field)."""
    out = b""
    for name, value in fields:
        if not name:
            return None, "empty_name"
        if not all(is_name_byte(b) for b in name):
            return None, "bad_name_char"
        if not value:
            return None, "empty_value"
        if not all(is_value_byte(b) for b in value):
            return None, "bad_value_char"
        if value[0] in TRIM or value[-1] in TRIM:
            return None, "value_not_canonical"
        out += name + SEP + value + CRLF
    return out, None


def address_parse(value):
    """Strict address parser: (decoded dict, None) or (None, error class)."""
    parts = value.split(ADDR["part_separator"].encode())
    if len(parts) == 2:
        if parts[0] != ADDR["uds"].encode():
            return None, "address_protocol"
        path = parts[1]
        if len(path) > LIMITS["max_uds_path_len"] or b"\0" in path:
            return None, "address_path"
        # `@name`: abstract socket; the decoded path is the name without '@'
        abstract = path.startswith(ADDR["abstract_prefix"].encode())
        return {"kind": "uds", "path": path[1 if abstract else 0 :].hex(), "abstract": abstract}, None
    if len(parts) == 3:
        if parts[0] != ADDR["tcp"].encode():
            return None, "address_protocol"
        host, port = parts[1], parts[2]
        if len(host) > LIMITS["max_host_len"] or any(b < 0x20 or b == 0x7F for b in host):
            return None, "address_host"
        if not (1 <= len(port) <= 5) or not all(0x30 <= b <= 0x39 for b in port) or int(port) > 65535:
            return None, "address_port"
        return {"kind": "tcp", "host": host.hex(), "port": int(port)}, None
    return None, "address_parts"


def address_find(block):
    """Address lookup (WIRE-5.3): the first pair, as a caller looping over the
    iterator sees them, named exactly ~connect_to or ~listen_on, whichever it
    is, parsed strictly; (decoded with `listen`, None) or (None, error)."""
    for name, value in th_iterate(block):
        if name in (CONNECT_TO, LISTEN_ON):
            d, err = address_parse(value)
            if err:
                return None, err
            d["listen"] = name == LISTEN_ON
            return d, None
    return None, "address_missing"


def address_format(d):
    if d["kind"] == "tcp":
        return b"tcp|" + bytes.fromhex(d["host"]) + b"|" + str(d["port"]).encode()
    return b"uds|" + (ADDR["abstract_prefix"].encode() if d["abstract"] else b"") + bytes.fromhex(d["path"])


# ---------------------------------------------------------------- builders


class VectorSet:
    def __init__(self, name, test_type, description, notes):
        self.name, self.test_type, self.description, self.notes = name, test_type, description, notes
        self.tests = []

    def add(self, comment, result, reqs, flags=(), error=None, **fields):
        for f in flags:
            assert f in self.notes, (self.name, f)
        t = {"tcId": len(self.tests) + 1, "comment": comment, "flags": list(flags), "result": result}
        if error is not None:
            assert error in ERRORS, error
            t["errorClass"] = error
        t["reqs"] = sorted(set(reqs))
        t.update(fields)
        self.tests.append(t)

    def doc(self):
        return {
            "schema": SCHEMA_NAME,
            "set": self.name,
            "testType": self.test_type,
            "source": SOURCE,
            "description": self.description,
            "notes": self.notes,
            "numberOfTests": len(self.tests),
            "tests": self.tests,
        }


def header_json(ch, proto, status, mid, thl, bl):
    return {
        "channelNumber": ch,
        "proto": proto,
        "opcode": opcode_of(proto),
        "origin": bit(proto, "origin"),
        "more": bit(proto, "more"),
        "internalA": bit(proto, "internal_a"),
        "internalB": bit(proto, "internal_b"),
        "status": status,
        "messageId": mid,
        "textHeadersLen": thl,
        "bodyLen": bl,
    }


def add_frame(vs, comment, ch, proto, status, mid, th=b"", body=b"", flags=(), reqs=(), truncate=None,
              thl=None, bl=None):
    """Adds one frame vector; the verdict follows VECTORS.md (frame)."""
    thl = len(th) if thl is None else thl
    bl = len(body) if bl is None else bl
    hdr = struct.pack(HDR_FMT, ch, proto, status, mid, thl, bl)
    frame = hdr + th + body
    if truncate is not None:
        frame = frame[:truncate]
    decoded = None
    err = None
    if len(frame) < 16:
        err = "incomplete"
    else:
        decoded = {"header": header_json(ch, proto, status, mid, thl, bl)}
        err = check_received(proto, status, mid)
        if err is None and len(frame) < 16 + thl + bl:
            err = "incomplete"
        if err is None:
            decoded["textHeaders"] = [[n.hex(), v.hex()] for n, v in th_iterate(th)]
            decoded["body"] = body.hex()
    req = list(R["framing"]) + list(reqs)
    if err:
        req += R.get(err, [])
    if decoded is not None and (thl == 0 or bl == 0):
        req += R["zero_parts"]
    if MAX_PART in (thl, bl) and err is None:
        req += R["max_parts"]
    if err is None and th and th_validate(th)[0] is not None:
        req += R["raw_headers"]
    if any(f in flags for f in ("FlagBitsIgnored", "LocalAbortForm")) and err is None:
        req += R["flags_ignored"]
    fields = {"frame": frame.hex()}
    if decoded is not None:
        fields["decoded"] = decoded
    vs.add(comment, "invalid" if err else "valid", req, flags, err, **fields)


FRAME_NOTES = {
    "ReferenceExample": "byte-exact example frame E1-E8 of the Zig behaviour reference, section 10",
    "AllProtoBytes": "one of the 256 proto byte values (opcode x origin x more x internal_a x internal_b)",
    "FlagBitsIgnored": "internal_a/internal_b set; a receiver must pass them through and ignore them",
    "LocalAbortForm": "ByeSignal with internal_a (0x47): Zig never transmits it, but a receiver cannot tell it apart",
    "NotOnWire": "opcode a conforming sender never transmits (Welcome 8-9 or undefined 10-15)",
    "EngineOnly": "header shape only an engine-local delivery has (origin = engine or status != 0)",
    "CheckOrder": "several receive checks fail; the vector pins which one is reported first",
    "ByteOrder": "field values whose bytes differ, so a byte-swapped or BE-host layout is detected",
    "Boundary": "a field or part length at 0, 1 or its maximum",
    "MaxSize": "a part of the maximum size 65535",
    "Truncated": "the input ends before the frame does",
    "ZigHeaders": "text-header block that is not strict but that the Zig iterator still reads",
}


def gen_proto():
    vs = VectorSet("frames-proto", "frame", "every proto byte 0x00-0xff in an otherwise plain frame", FRAME_NOTES)
    for p in range(256):
        op = opcode_of(p)
        flags = ["AllProtoBytes"]
        if bit(p, "internal_a") or bit(p, "internal_b"):
            flags.append("FlagBitsIgnored")
        if op not in OPCODES or not OPCODES[op]["on_wire"]:
            flags.append("NotOnWire")
        if bit(p, "origin"):
            flags.append("EngineOnly")
        if p == 0x47:
            flags.append("LocalAbortForm")
        errs = failing_checks(p, 0, 0x0102030405060708)
        if len(errs) > 1:
            flags.append("CheckOrder")
        name = OPCODES[op]["name"] if op in OPCODES else "undefined opcode %d" % op
        comment = "proto 0x%02x: %s origin=%d more=%d internal_a=%d internal_b=%d" % (
            p, name, bit(p, "origin"), bit(p, "more"), bit(p, "internal_a"), bit(p, "internal_b"))
        reqs = R["proto"] + R["opcodes"]
        if "FlagBitsIgnored" in flags and not errs:
            reqs = reqs + R["flags_ignored"]
        if "CheckOrder" in flags:
            reqs = reqs + R["check_order"]
        add_frame(vs, comment, 0x1A2B, p, 0, 0x0102030405060708, flags=flags, reqs=reqs)
    return vs


# The frames as printed in the reference, section 10 (= spec Annex A).
REFERENCE_HEX = [
    ("E1 ", "1a2b0300000000000000000100200000 7e636f6e6e6563745f746f3a7463707c3132372e302e302e317c373039390d0a"),
    ("E2 ", "010103000000000000000007001f0000 7e636f6e6e6563745f746f3a7564737c2f746d702f6170702e736f636b0d0a"),
    ("E3 HelloResponse", "04d20400000000000000000100200000 7e636f6e6e6563745f746f3a7463707c3132372e302e302e317c373039390d0a"),
    ("E4 ", "1a2b0000000000000000000200000005 68656c6c6f"),
    ("E5 ", "04d20100010203040506070800000000"),
    ("E6 ", "1a2b2200000000000000002a000e0005 4a6f622d49443a31323334350d0a 6368756e6b"),
    ("E7 ByeRequest", "1a2b0500000000000000000300000000"),
    ("E7 ByeResponse", "04d20600000000000000000300000000"),
    ("E8 ByeSignal as transmitted", "1a2b0700000000000000000400000000"),
]


def gen_reference():
    vs = VectorSet("frames-reference", "frame", "the example frames E1-E8 of the Zig behaviour reference, section 10",
                   FRAME_NOTES)
    f = ["ReferenceExample"]
    rq = R["header"] + R["opcodes"] + R["annex_a"]
    e1h = CONNECT_TO + b":tcp|127.0.0.1|7099\r\n"
    add_frame(vs, "E1 HelloRequest over TCP", 0x1A2B, 0x03, 0, 1, e1h, flags=f, reqs=rq)
    add_frame(vs, "E2 HelloRequest over UDS", 0x0101, 0x03, 0, 7, CONNECT_TO + b":uds|/tmp/app.sock\r\n", flags=f, reqs=rq)
    add_frame(vs, "E3 HelloResponse reusing E1's message", 0x04D2, 0x04, 0, 1, e1h, flags=f, reqs=rq)
    add_frame(vs, "E3 variant: fresh HelloResponse without headers", 0x04D2, 0x04, 0, 1, flags=f, reqs=rq)
    add_frame(vs, "E4 Request with body hello", 0x1A2B, 0x00, 0, 2, body=b"hello", flags=f, reqs=rq)
    add_frame(vs, "E5 Response with message_id 0x0102030405060708", 0x04D2, 0x01, 0, 0x0102030405060708,
              flags=f + ["ByteOrder"], reqs=rq)
    add_frame(vs, "E6 Signal with more=1, header Job-ID and body chunk", 0x1A2B, 0x22, 0, 42, b"Job-ID:12345\r\n",
              b"chunk", flags=f, reqs=rq + R["proto"])
    add_frame(vs, "E7 ByeRequest", 0x1A2B, 0x05, 0, 3, flags=f, reqs=rq)
    add_frame(vs, "E7 ByeResponse", 0x04D2, 0x06, 0, 3, flags=f, reqs=rq)
    add_frame(vs, "E8 ByeSignal as transmitted (internal_a = 0)", 0x1A2B, 0x07, 0, 4, flags=f, reqs=rq)
    add_frame(vs, "E8 ByeSignal default() form 0x47 (a local abort, never sent by Zig)", 0x1A2B, 0x47, 0, 4,
              flags=f + ["LocalAbortForm", "FlagBitsIgnored"], reqs=rq + R["flags_ignored"])
    # The same frames as printed in the reference, section 10: the struct
    # packing above must reproduce them byte for byte.
    for comment, hexstr in REFERENCE_HEX:
        got = [t["frame"] for t in vs.tests if t["comment"].startswith(comment)]
        assert got == [hexstr.replace(" ", "")], comment
    add_frame(vs, "session step 4: Response with mid 2", 0x04D2, 0x01, 0, 2, flags=f, reqs=rq)
    for p, what in [(0x40, "Request with internal_a"), (0x45, "ByeRequest with internal_a"), (0x20, "Request with more")]:
        add_frame(vs, "section 10 proto value 0x%02x: %s" % (p, what), 0x1A2B, p, 0, 5,
                  flags=f + (["FlagBitsIgnored"] if p & 0x40 else []), reqs=rq + R["proto"])
    add_frame(vs, "section 10 proto value 0x12: Signal claiming origin = engine", 0x1A2B, 0x12, 0, 5,
              flags=f + ["EngineOnly"], reqs=rq)
    return vs


def gen_header():
    vs = VectorSet("frames-header", "frame", "binary header field values, receive checks and their order",
                   FRAME_NOTES)
    rq = R["header"]
    for ch in [0, 1, 0x00FF, 0x0100, 0x1234, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]:
        add_frame(vs, "channel_number 0x%04x" % ch, ch, 0x02, 0, 9, flags=["ByteOrder", "Boundary"], reqs=rq)
    for mid in [1, 0xFF, 0x100, 0x0102030405060708, 0x8000000000000000, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF,
                0x00000000FFFFFFFF, 0xFFFFFFFF00000000]:
        add_frame(vs, "message_id 0x%016x on a Response" % mid, 0x1A2B, 0x01, 0, mid, flags=["ByteOrder", "Boundary"],
                  reqs=rq)
    add_frame(vs, "reference 1.3 header bytes (status 0x56) as sent", 0x1234, 0x03, 0x56, 0x0102030405060708,
              thl=0xA1A2, bl=0xB1B2, flags=["ByteOrder", "EngineOnly"], reqs=rq + R["header_example"])
    add_frame(vs, "reference 1.3 header with status 0 and no parts present", 0x1234, 0x03, 0, 0x0102030405060708,
              thl=0xA1A2, bl=0xB1B2, flags=["ByteOrder", "Truncated"], reqs=rq)
    add_frame(vs, "BE-host layout of E4 read as LE-host layout", 0x0005, 0x00, 0x00, 0x02, thl=0,
              bl=0x1A2B, flags=["ByteOrder", "Truncated"], reqs=rq)
    # message_id 0 for every opcode: only response roles need an id
    for op in range(10):
        add_frame(vs, "message_id 0 on %s" % OPCODES[op]["name"], 0x1A2B, op, 0, 0, flags=["Boundary"],
                  reqs=rq + R["opcodes"])
    for op in [1, 4, 6]:
        add_frame(vs, "message_id 1 on %s" % OPCODES[op]["name"], 0x1A2B, op, 0, 1, flags=["Boundary"],
                  reqs=rq + R["opcodes"])
    # every non-zero status
    for st in range(1, 256):
        add_frame(vs, "status %d on a Request" % st, 0x1A2B, 0x00, st, 7, flags=["EngineOnly"], reqs=rq)
    # more on every opcode
    for op in range(16):
        add_frame(vs, "more=1 on opcode %d" % op, 0x1A2B, op | 0x20, 0, 7, reqs=rq + R["proto"],
                  flags=["NotOnWire", "CheckOrder"] if op >= 8 and op in OPCODES and OPCODES[op]["type"] != "regular"
                  else ["NotOnWire"] if op >= 8 else [])
    # check order: each pair of failing checks
    order = [
        ("bad opcode + origin + status + more", 0x3A, 5, 0),
        ("bad opcode 8 + origin", 0x18, 0, 1),
        ("bad opcode 15 + status", 0x0F, 3, 1),
        ("origin + status", 0x12, 22, 1),
        ("origin + more on Hello", 0x33, 0, 1),
        ("origin + zero id on Response", 0x11, 0, 0),
        ("status + more on Bye", 0x25, 9, 1),
        ("status + zero id on ByeResponse", 0x06, 12, 0),
        ("more + zero id on HelloResponse", 0x24, 0, 0),
        ("more + zero id on ByeResponse with both flag bits", 0xE6, 0, 0),
        ("every check fails on WelcomeResponse", 0xF9, 31, 0),
    ]
    for what, p, st, mid in order:
        add_frame(vs, "check order: " + what, 0x1A2B, p, st, mid, flags=["CheckOrder"], reqs=rq + R["check_order"])
    return vs


def sizes_th(n):
    """A strict text-header block of exactly n bytes (n = 0, 1 or >= 5)."""
    if n == 0:
        return b""
    if n == 1:
        return b"a"  # a name without colon or CRLF: still read by the iterator
    return b"x:" + b"v" * (n - 4) + b"\r\n"


def sizes_body(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))


def gen_sizes():
    vs = VectorSet("frames-sizes", "frame", "part sizes 0 and 1, and assorted text-header blocks", FRAME_NOTES)
    for thl in [0, 1, 5, 255, 256]:
        for bl in [0, 1, 2, 255, 256]:
            flags = ["Boundary"] + (["ZigHeaders"] if thl == 1 else [])
            add_frame(vs, "text headers %d bytes, body %d bytes" % (thl, bl), 0x0102, 0x00, 0, 0x11, sizes_th(thl),
                      sizes_body(bl), flags=flags, reqs=R["header"])
    blocks = [
        (b"a:b\r\n", []),
        (b"a:b\r\nc:d\r\n", []),
        (b"dup:1\r\ndup:2\r\n", []),
        (b"a: b \r\n", []),
        (b"ipv6:[::1]:7099\r\n", []),
        (b"a:b", ["ZigHeaders"]),
        (b"\r\na:b\r\n\r\n", ["ZigHeaders"]),
        (b":x\r\nb:c\r\n", ["ZigHeaders"]),
        (b"a:b\n c:d\r\n", ["ZigHeaders"]),
        (b" a : b\r\n", ["ZigHeaders"]),
        (b"noval\r\n", ["ZigHeaders"]),
        (b"a:b\r", ["ZigHeaders"]),
        (b"\x00\xff:\x80\x7f\r\n", ["ZigHeaders"]),
        (b"~connect_to:tcp|127.0.0.1|7099\r\n~listen_on:uds|/tmp/x\r\n", []),
    ]
    for th, flags in blocks:
        add_frame(vs, "text headers %r" % th.decode("latin-1"), 0x0102, 0x02, 0, 0x22, th, b"B", flags=flags,
                  reqs=R["header"] + R["iterate"])
    return vs


def gen_large():
    vs = VectorSet("frames-large", "frame", "parts of the maximum size 65535 (large file, few vectors)", FRAME_NOTES)
    for thl, bl in [(MAX_PART, 0), (0, MAX_PART), (MAX_PART, MAX_PART)]:
        add_frame(vs, "text headers %d bytes, body %d bytes" % (thl, bl), 0xFFFF, 0x02, 0, 0xFFFFFFFFFFFFFFFF,
                  sizes_th(thl), sizes_body(bl), flags=["MaxSize", "Boundary"], reqs=R["header"])
    return vs


def gen_truncated():
    vs = VectorSet("frames-truncated", "frame", "inputs that end before the frame does", FRAME_NOTES)
    th, body = b"k:v\r\n", b"body!"
    full = 16 + len(th) + len(body)
    for n in [0, 1, 2, 4, 8, 12, 14, 15, 16, 17, 20, 21, 22, 25, full - 1]:
        add_frame(vs, "frame of %d bytes cut to %d" % (full, n), 0x1A2B, 0x00, 0, 5, th, body, truncate=n,
                  flags=["Truncated"], reqs=R["incomplete"])
    add_frame(vs, "frame of %d bytes complete (control)" % full, 0x1A2B, 0x00, 0, 5, th, body, reqs=R["incomplete"])
    add_frame(vs, "header claims 65535-byte body, none present", 0x1A2B, 0x02, 0, 5, bl=MAX_PART,
              flags=["Truncated", "Boundary"], reqs=R["incomplete"])
    add_frame(vs, "header claims 65535 bytes of text headers, 1 present", 0x1A2B, 0x02, 0, 5, th=b"a", thl=MAX_PART,
              flags=["Truncated", "Boundary"], reqs=R["incomplete"])
    add_frame(vs, "header only, text headers missing", 0x1A2B, 0x03, 0, 5, th=b"", thl=3, flags=["Truncated"],
              reqs=R["incomplete"])
    add_frame(vs, "bad opcode in a truncated frame: header check comes first", 0x1A2B, 0x0A, 0, 5, th=b"", thl=3,
              flags=["Truncated", "CheckOrder", "NotOnWire"], reqs=R["incomplete"] + R["check_order"])
    return vs


TH_NOTES = {
    "Strict": "a block the strict validator accepts",
    "ZigOnly": "not strict, but the Zig iterator reads it",
    "EmptyName": "a line with an empty name, which ends Zig iteration",
    "Binary": "bytes outside printable ASCII",
    "Whitespace": "SP/HTAB around names or values",
    "Reserved": "an engine-reserved header (~connect_to, ~listen_on)",
}

TH_BLOCKS = [
    (b"", ["Strict"]),
    (b"a:b\r\n", ["Strict"]),
    (b"a:b\r\nc:d\r\n", ["Strict"]),
    (b"a: b\r\n", ["Strict", "Whitespace"]),
    (b"a:\tb\t \r\n", ["Strict", "Whitespace"]),
    (b"a:b c\r\n", ["Strict", "Whitespace"]),
    (b"a:b:c\r\n", ["Strict"]),
    (b"Job-ID:12345\r\n", ["Strict"]),
    (b"~connect_to:tcp|127.0.0.1|7099\r\n", ["Strict", "Reserved"]),
    (b"~listen_on:uds|/tmp/app.sock\r\n", ["Strict", "Reserved"]),
    (b"a:\x80\xff\r\n", ["Strict", "Binary"]),
    (b"!#$%&'*+-.^_`|~09AZaz{}[]()<>=?@;,/\"\\:v\r\n", ["Strict"]),
    (b"a:b", ["ZigOnly"]),
    (b"a:b\r", ["ZigOnly"]),
    (b"a:b\n", ["ZigOnly"]),
    (b"a:b\nc:d\r\n", ["ZigOnly"]),
    (b"a:b\rc:d\r\n", ["ZigOnly"]),
    (b"\r\n", ["ZigOnly"]),
    (b"\r\na:b\r\n", ["ZigOnly"]),
    (b"a:b\r\n\r\n", ["ZigOnly"]),
    (b"a:b\r\n\r\nc:d\r\n", ["ZigOnly"]),
    (b"a\r\n", ["ZigOnly"]),
    (b"a", ["ZigOnly"]),
    (b"a:\r\n", ["ZigOnly"]),
    (b"a: \t \r\n", ["ZigOnly", "Whitespace"]),
    (b"a:", ["ZigOnly"]),
    (b"a: ", ["ZigOnly", "Whitespace"]),
    (b":b\r\n", ["ZigOnly", "EmptyName"]),
    (b":x\r\nb:c\r\n", ["ZigOnly", "EmptyName"]),
    (b"a:b\r\n:x\r\nc:d\r\n", ["ZigOnly", "EmptyName"]),
    (b" a:b\r\n", ["ZigOnly", "Whitespace"]),
    (b"a :b\r\n", ["ZigOnly", "Whitespace"]),
    (b"\ta:b\r\n", ["ZigOnly", "Whitespace"]),
    (b"a b:c\r\n", ["ZigOnly", "Whitespace"]),
    (b"\x80:b\r\n", ["ZigOnly", "Binary"]),
    (b"a\x00:b\r\n", ["ZigOnly", "Binary"]),
    (b"a\x7f:b\r\n", ["ZigOnly", "Binary"]),
    (b"a:b\x00\r\n", ["ZigOnly", "Binary"]),
    (b"a:b\x7f\r\n", ["ZigOnly", "Binary"]),
    (b"a:\x01\r\n", ["ZigOnly", "Binary"]),
    (b"a:b\x1fc\r\n", ["ZigOnly", "Binary"]),
    (b"\x00", ["ZigOnly", "Binary"]),
    (b"\r", ["ZigOnly"]),
    (b"\n", ["ZigOnly"]),
    (b"\r\r\n", ["ZigOnly"]),
    (b"\ra:b\r\n", ["ZigOnly"]),
    (b"a\rb:c\r\n", ["ZigOnly"]),
    (b"a\nb:c\r\n", ["ZigOnly"]),
    (b":", ["ZigOnly", "EmptyName"]),
    (b"::\r\n", ["ZigOnly", "EmptyName"]),
    (b"a:b\r\nc", ["ZigOnly"]),
    (b"a:b\r\nc:", ["ZigOnly"]),
    (b"a:b\r\nc:d", ["ZigOnly"]),
    (b"a:b\r\nc:d\r", ["ZigOnly"]),
    (b"a:b\r\n\r", ["ZigOnly"]),
    (b"a:b\r\n \r\n", ["ZigOnly", "Whitespace"]),
    (b"a:b\r\n\t:c\r\n", ["ZigOnly", "Whitespace"]),
]


def gen_textheaders():
    it = VectorSet("textheaders-iterate", "textheaders-iterate",
                   "text-header blocks and the [name, value] pairs the Zig-compatible iterator yields", TH_NOTES)
    va = VectorSet("textheaders-validate", "textheaders-validate",
                   "text-header blocks and the strict validator's verdict (class and offset of the first bad byte)",
                   TH_NOTES)
    for blk, flags in TH_BLOCKS:
        comment = "block %r" % blk.decode("latin-1")
        hs = [[n.hex(), v.hex()] for n, v in th_iterate(blk)]
        it.add(comment, "valid", R["iterate"], flags, input=blk.hex(), headers=hs)
        err, off = th_validate(blk)
        assert (err is None) == ("Strict" in flags), (blk, err)
        if err is None:
            va.add(comment, "valid", R["validate"], flags, input=blk.hex())
        else:
            va.add(comment + " -> %s at %d" % (err, off), "invalid", R["validate_error"], flags, err, input=blk.hex(),
                   errorOffset=off)
    # every single byte as a name character and as a value character
    for b in range(256):
        blk = b"n" + bytes([b]) + b":v\r\n"
        err, off = th_validate(blk)
        fl = ["Strict"] if err is None else ["ZigOnly"]
        if err is None:
            va.add("name byte 0x%02x" % b, "valid", R["validate"], fl, input=blk.hex())
        else:
            va.add("name byte 0x%02x -> %s at %d" % (b, err, off), "invalid", R["validate_error"], fl, err,
                   input=blk.hex(), errorOffset=off)
        blk = b"n:v" + bytes([b]) + b"w\r\n"
        err, off = th_validate(blk)
        fl = ["Strict"] if err is None else ["ZigOnly"]
        if err is None:
            va.add("value byte 0x%02x" % b, "valid", R["validate"], fl, input=blk.hex())
        else:
            va.add("value byte 0x%02x -> %s at %d" % (b, err, off), "invalid", R["validate_error"], fl, err,
                   input=blk.hex(), errorOffset=off)
    return it, va


APPEND_NOTES = {
    "Canonical": "the serialiser writes name:value CRLF with no space after the colon",
    "Injection": "a value that would inject a header or end the line if written verbatim",
    "ZigAccepts": "Zig's append would write (or trim) it; a strict serialiser refuses it",
}


def gen_append():
    vs = VectorSet("textheaders-append", "textheaders-append",
                   "fields appended in order by the serialiser, and the resulting block or the refusal",
                   APPEND_NOTES)
    cases = [
        ([(b"a", b"b")], ["Canonical"]),
        ([(b"a", b"b"), (b"c", b"d")], ["Canonical"]),
        ([(b"Job-ID", b"12345")], ["Canonical"]),
        ([(CONNECT_TO, b"tcp|127.0.0.1|7099")], ["Canonical"]),
        ([(b"dup", b"1"), (b"dup", b"2")], ["Canonical"]),
        ([(b"a", b"b c")], ["Canonical"]),
        ([(b"a", b"b\tc")], ["Canonical"]),
        ([(b"a", b"b:c")], ["Canonical"]),
        ([(b"a", b"\x80\xff")], ["Canonical"]),
        ([(b"", b"b")], []),
        ([(b"a b", b"c")], ["ZigAccepts"]),
        ([(b" a", b"c")], ["ZigAccepts"]),
        ([(b"a:", b"c")], []),
        ([(b"a\r\n", b"c")], ["ZigAccepts", "Injection"]),
        ([(b"a", b"")], []),
        ([(b"a", b" b")], ["ZigAccepts"]),
        ([(b"a", b"b ")], ["ZigAccepts"]),
        ([(b"a", b"\tb")], ["ZigAccepts"]),
        ([(b"a", b"b\r\nx:y")], ["ZigAccepts", "Injection"]),
        ([(b"a", b"b\n")], ["ZigAccepts", "Injection"]),
        ([(b"a", b"b\r")], ["ZigAccepts", "Injection"]),
        ([(b"a", b"b\x00")], ["ZigAccepts"]),
        ([(b"a", b"\x7f")], ["ZigAccepts"]),
        ([(b"ok", b"1"), (b"", b"x")], []),
        ([(b"ok", b"1"), (b"x", b"a\r\nb:c")], ["ZigAccepts", "Injection"]),
        ([(b"\x80", b"x")], []),
    ]
    for fields, flags in cases:
        block, err = th_append(fields)
        comment = "append " + ", ".join("%r=%r" % (n.decode("latin-1"), v.decode("latin-1")) for n, v in fields)
        fj = [[n.hex(), v.hex()] for n, v in fields]
        if err is None:
            assert th_validate(block) == (None, None)
            assert th_iterate(block) == list(fields)
            vs.add(comment, "valid", R["append"], flags, fields=fj, block=block.hex())
        else:
            vs.add(comment + " -> " + err, "invalid", R[err], flags, err, fields=fj)
    return vs


ADDR_NOTES = {
    "Tcp": "a tcp|host|port value",
    "Uds": "a uds|path value",
    "Abstract": "uds|@name: Linux abstract socket (extension of this implementation)",
    "ZigAccepts": "Zig's Address.parse accepts it; the strict parser refuses it",
    "ZigCrashes": "four or more parts: Zig's Address.parse writes out of bounds (reference 9.2 item 14)",
    "ZigMisreads": "Zig reads it as another protocol than it says (any three-part value is TCP)",
    "Boundary": "a length or port at its limit",
}


def gen_addresses():
    vs = VectorSet("addresses", "address", "values of ~connect_to / ~listen_on and the strict parser's verdict",
                   ADDR_NOTES)
    h255 = b"h" * 255
    p107 = b"/" + b"p" * 106
    cases = [
        (b"tcp|127.0.0.1|7099", ["Tcp"]),
        (b"tcp|localhost|1", ["Tcp"]),
        (b"tcp||7099", ["Tcp"]),
        (b"tcp|::1|7099", ["Tcp"]),
        (b"tcp|[::1]|65535", ["Tcp", "Boundary"]),
        (b"tcp|h|0", ["Tcp", "Boundary"]),
        (b"tcp|h|00000", ["Tcp", "Boundary"]),
        (b"tcp|h|07099", ["Tcp"]),
        (b"tcp|" + h255 + b"|1", ["Tcp", "Boundary"]),
        (b"tcp|" + h255 + b"h|1", ["Tcp", "Boundary"]),
        (b"tcp|h|65536", ["Tcp", "Boundary"]),
        (b"tcp|h|99999", ["Tcp", "Boundary"]),
        (b"tcp|h|100000", ["Tcp", "Boundary"]),
        (b"tcp|h|", ["Tcp"]),
        (b"tcp|h|+7099", ["Tcp", "ZigAccepts"]),
        (b"tcp|h|-0", ["Tcp", "ZigAccepts"]),
        (b"tcp|h|7_099", ["Tcp", "ZigAccepts"]),
        (b"tcp|h| 7099", ["Tcp"]),
        (b"tcp|h|7099 ", ["Tcp"]),
        (b"tcp|h|0x10", ["Tcp"]),
        (b"tcp|h\x00|1", ["Tcp"]),
        (b"tcp|h\x00|x", ["Tcp"]),
        (b"tcp|" + h255 + b"h|99999", ["Tcp", "Boundary"]),
        (b"tcp|h\x1f|1", ["Tcp"]),
        (b"tcp|h\x7f|1", ["Tcp"]),
        (b"tcp|a\r\nb|1", ["Tcp"]),
        (b"xyz|h|1", ["Tcp", "ZigMisreads"]),
        (b"uds|h|1", ["ZigMisreads"]),
        (b"TCP|h|1", ["Tcp", "ZigMisreads"]),
        (b"tcp|h", []),
        (b"uds|/tmp/app.sock", ["Uds"]),
        (b"uds|", ["Uds"]),
        (b"uds|relative/path", ["Uds"]),
        (b"uds|" + p107, ["Uds", "Boundary"]),
        (b"uds|" + p107 + b"p", ["Uds", "Boundary"]),
        (b"uds|/tmp/a\x00b", ["Uds"]),
        (b"uds|@abstract", ["Uds", "Abstract"]),
        (b"uds|@", ["Uds", "Abstract"]),
        (b"uds|@" + p107[1:], ["Uds", "Abstract", "Boundary"]),
        (b"UDS|/tmp/x", ["Uds"]),
        (b"udp|/tmp/x", []),
        (b"tcp", []),
        (b"uds", []),
        (b"", []),
        (b"tcp|h|1|x", ["ZigCrashes"]),
        (b"uds|a|b|c", ["ZigCrashes"]),
        (b"tcp|127.0.0.1|7099|", ["ZigCrashes"]),
        (b"||||", ["ZigCrashes"]),
        (b"|", []),
        (b"||", []),
    ]
    for value, flags in cases:
        d, err = address_parse(value)
        comment = "value %r" % value.decode("latin-1")
        if len(value) > 40:
            comment = "value %r... (%d bytes)" % (value[:24].decode("latin-1"), len(value))
        extra = R["abstract"] if "Abstract" in flags else []
        if err is None:
            vs.add(comment, "valid", R["address"] + R["address_format"] + extra, flags, value=value.hex(), decoded=d,
                   formatted=address_format(d).hex())
        else:
            vs.add(comment + " -> " + err, "invalid", R[err] + extra, flags, err, value=value.hex())
    return vs


LOOKUP_NOTES = {
    "FirstWins": "several reserved headers: the first one wins, whichever it is and even when it is malformed",
    "IterationEnd": "a line with an empty name ends the lookup before the reserved header",
    "ExactName": "a name that differs from ~connect_to / ~listen_on in case or whitespace does not count",
    "Trimmed": "the value is used as the iterator yields it (SP/HTAB trimmed)",
}


def gen_lookup():
    vs = VectorSet("address-lookup", "address-lookup",
                   "text-header blocks and the address their first ~connect_to / ~listen_on header gives",
                   LOOKUP_NOTES)
    ct, lo = CONNECT_TO + b":", LISTEN_ON + b":"
    cases = [
        (ct + b"tcp|127.0.0.1|7099\r\n", []),
        (lo + b"uds|/tmp/x.sock\r\n", []),
        (lo + b"tcp||7099\r\n", []),
        (b"a:b\r\n" + lo + b"tcp||7099\r\n" + ct + b"uds|/y\r\n", ["FirstWins"]),
        (ct + b"uds|/y\r\n" + lo + b"tcp||7099\r\n", ["FirstWins"]),
        (ct + b"xyz|h|1\r\n" + lo + b"tcp|h|1\r\n", ["FirstWins"]),
        (CONNECT_TO + b"\r\n" + lo + b"uds|/z\r\n", ["FirstWins"]),
        (ct + b"tcp|h|1|x\r\n", []),
        (b"", []),
        (b"a:b\r\n", []),
        (b":x\r\n" + ct + b"tcp|h|1\r\n", ["IterationEnd"]),
        (b"a:b\r\n:\r\n" + lo + b"uds|/z\r\n", ["IterationEnd"]),
        (b"~Connect_to:tcp|h|1\r\n", ["ExactName"]),
        (b" " + ct + b"tcp|h|1\r\n", ["ExactName"]),
        (CONNECT_TO + b" :tcp|h|1\r\n", ["ExactName"]),
        (ct + b" \t tcp|h|1 \t\r\n", ["Trimmed"]),
        (ct + b"tcp|h|1", []),
        (b"\r\n\r\n" + lo + b"uds|@abstract\r\n", []),
        (b"x:y\r\n" * 3 + ct + b"tcp|[::1]|65535\r\n", []),
    ]
    for block, flags in cases:
        d, err = address_find(block)
        comment = "block %r" % block.decode("latin-1")
        if err is None:
            vs.add(comment, "valid", R["lookup"], flags, input=block.hex(), decoded=d)
        else:
            vs.add(comment + " -> " + err, "invalid", R["lookup"] + R.get(err, []), flags, err, input=block.hex())
    return vs


STREAM_NOTES = {
    "Session": "the complete TCP session of the reference, section 10",
    "NoResync": "frames after a refused one are never delivered (no resynchronisation)",
    "Limits": "receive limits below the protocol maximum are in force",
    "NoValidation": "the decoder runs without the receiver check (limits still apply)",
    "CheckOrder": "the receiver check and a limit both fail; the check comes first",
    "Truncated": "the stream ends inside a frame",
}


def stream_decode(data, validate, max_th, max_bl):
    """What a receiver decoding `data` reports: (frames, error, at_boundary).
    Each header is checked as soon as its 16 bytes are in: the WIRE-7.1
    checks (when validating), then the limits (thl, then bl)."""
    frames, pos = [], 0
    while True:
        rest = len(data) - pos
        if rest == 0:
            return frames, None, True
        if rest < 16:
            return frames, "incomplete", False
        ch, proto, status, mid, thl, bl = struct.unpack_from(HDR_FMT, data, pos)
        if validate:
            err = check_received(proto, status, mid)
            if err:
                return frames, err, False
        if thl > max_th:
            return frames, "headers_too_long", False
        if bl > max_bl:
            return frames, "body_too_long", False
        if rest < 16 + thl + bl:
            return frames, "incomplete", False
        th = data[pos + 16:pos + 16 + thl]
        body = data[pos + 16 + thl:pos + 16 + thl + bl]
        frames.append({"header": header_json(ch, proto, status, mid, thl, bl),
                       "textHeaders": [[n.hex(), v.hex()] for n, v in th_iterate(th)], "body": body.hex()})
        pos += 16 + thl + bl


def frame_bytes(ch, proto, status, mid, th=b"", body=b""):
    return struct.pack(HDR_FMT, ch, proto, status, mid, len(th), len(body)) + th + body


def gen_streams():
    vs = VectorSet("streams", "stream", "byte streams of several frames, what a receiver delivers and where it stops",
                   STREAM_NOTES)
    e1h = CONNECT_TO + b":tcp|127.0.0.1|7099\r\n"
    session_c = [frame_bytes(0x1A2B, 0x03, 0, 1, e1h), frame_bytes(0x1A2B, 0x00, 0, 2, body=b"hello"),
                 frame_bytes(0x1A2B, 0x05, 0, 3)]
    session_s = [frame_bytes(0x04D2, 0x04, 0, 1, e1h), frame_bytes(0x04D2, 0x01, 0, 2),
                 frame_bytes(0x04D2, 0x06, 0, 3)]
    ok = [frame_bytes(0x0102, 0x02, 0, 10 + i, b"k:%d\r\n" % i, b"b" * i) for i in range(3)]
    M = MAX_PART
    cases = [
        ("reference session, client to server", b"".join(session_c), True, M, M, ["Session"]),
        ("reference session, server to client", b"".join(session_s), True, M, M, ["Session"]),
        ("empty stream", b"", True, M, M, []),
        ("one header-only frame", frame_bytes(1, 0x02, 0, 1), True, M, M, []),
        ("100 small frames back to back",
         b"".join(frame_bytes(7, 0x02 | (0x20 if i % 2 else 0), 0, i + 1, b"n:%d\r\n" % i, bytes([i]))
                  for i in range(100)), True, M, M, []),
        ("3 frames, then a forged-origin frame, then a valid one",
         b"".join(ok) + frame_bytes(1, 0x12, 0, 5) + ok[0], True, M, M, ["NoResync"]),
        ("3 frames, then a WelcomeRequest (bad opcode)", b"".join(ok) + frame_bytes(1, 0x08, 0, 5) + ok[1],
         True, M, M, ["NoResync"]),
        ("a frame, then one with status 22", ok[0] + frame_bytes(1, 0x02, 22, 5), True, M, M, ["NoResync"]),
        ("a frame, then a HelloResponse with more", ok[0] + frame_bytes(1, 0x24, 0, 5), True, M, M, ["NoResync"]),
        ("a frame, then a ByeResponse with id 0", ok[0] + frame_bytes(1, 0x06, 0, 0), True, M, M, ["NoResync"]),
        ("3 frames, then half a header", b"".join(ok) + ok[0][:8], True, M, M, ["Truncated"]),
        ("3 frames, then a header without its parts", b"".join(ok) + ok[2][:16], True, M, M, ["Truncated"]),
        ("3 frames, then a frame missing its last byte", b"".join(ok) + ok[2][:-1], True, M, M, ["Truncated"]),
        ("text headers at the limit 10, then 11", frame_bytes(1, 0, 0, 1, b"a:1234\r\n\r\n")
         + frame_bytes(1, 0, 0, 2, b"a:12345\r\n\r\n"), True, 10, M, ["Limits"]),
        ("body at the limit 5, then 6", frame_bytes(1, 0, 0, 1, body=b"12345") + frame_bytes(1, 0, 0, 2, body=b"123456"),
         True, M, 5, ["Limits"]),
        ("limits 0: empty frames pass, a 1-byte body does not",
         frame_bytes(1, 0x02, 0, 1) + frame_bytes(1, 0x05, 0, 2) + frame_bytes(1, 0x00, 0, 3, body=b"x"),
         True, 0, 0, ["Limits"]),
        ("both parts over their limits: text headers reported", frame_bytes(1, 0, 0, 1, b"a:b\r\n", b"xyz"),
         True, 2, 2, ["Limits"]),
        ("limit exceeded by a header whose parts are missing", struct.pack(HDR_FMT, 1, 0, 0, 1, 0, 65535),
         True, M, 1000, ["Limits", "Truncated"]),
        ("bad opcode and thl over the limit: the check comes first", frame_bytes(1, 0x0B, 0, 1, b"a:bcdef\r\n"),
         True, 3, M, ["Limits", "CheckOrder"]),
        ("without validation, engine-only frames are delivered",
         frame_bytes(1, 0x12, 22, 1) + frame_bytes(1, 0x0F, 0, 0, b"x:y\r\n") + frame_bytes(1, 0x26, 0, 0),
         False, M, M, ["NoValidation"]),
        ("without validation, limits still apply", frame_bytes(1, 0x1F, 9, 0, b"a:bcdef\r\n"), False, 3, M,
         ["NoValidation", "Limits"]),
    ]
    for comment, data, validate, mth, mbl, flags in cases:
        frames, err, at_b = stream_decode(data, validate, mth, mbl)
        reqs = list(R["stream"])
        if err and err != "incomplete":
            reqs += R["stream_refused"] + R.get(err, [])
        if err == "incomplete":
            reqs += R["incomplete"]
        if "Limits" in flags:
            reqs += R["limits"]
        if "CheckOrder" in flags:
            reqs += R["check_order"]
        vs.add(comment, "invalid" if err else "valid", reqs, flags, err, stream=data.hex(), validate=validate,
               maxTextHeadersLen=mth, maxBodyLen=mbl, frames=frames, atBoundary=at_b)
    return vs


def all_sets():
    it, va = gen_textheaders()
    return [gen_proto(), gen_reference(), gen_header(), gen_sizes(), gen_large(), gen_truncated(), it, va,
            gen_append(), gen_addresses(), gen_lookup(), gen_streams()]


def render(vs):
    return json.dumps(vs.doc(), indent=1, ensure_ascii=True) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if interop/vectors/ is not current")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    stale = []
    sets = all_sets()
    names = set()
    for vs in sets:
        path = os.path.join(args.out, vs.name + ".json")
        names.add(vs.name + ".json")
        text = render(vs)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if os.path.isdir(args.out):
        extra = [n for n in os.listdir(args.out) if n.endswith(".json") and n not in names]
        if extra and args.check:
            stale += [os.path.join(args.out, n) + " (not generated)" for n in extra]
    if stale:
        print("regen-check: interop vectors are stale (run make regen):", *stale, sep="\n  ")
        return 1
    total = sum(len(vs.tests) for vs in sets)
    print("gen_vectors: %d sets, %d vectors %s" % (len(sets), total, "current" if args.check else "written"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
