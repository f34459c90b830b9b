"""Reference model of the tofu codec, in pure Python.

Built only from the machine-readable definition (wire.py, generated from
spec/tofu-wire.toml) and the rules of spec/tofu-wire.md -- never from the C
code -- so that "the C codec agrees with the oracle" means two independent
readings of the spec agree. The oracle is itself checked against the shared
Zig vectors (`python3 -m tofu_conformance.oracle`).

Every function either returns a value or raises CodecError(class_name), where
class_name is a name of the [[errors]] table ("incomplete", "bad_opcode", ...).
"""
import json
import os
import struct
import sys

from . import wire as W

# ---------------------------------------------------------------- errors

ERROR_NAMES = {v: n for v, (n, _s) in W.ERRORS.items()}
ERROR_VALUES = {n: v for v, n in ERROR_NAMES.items()}
# class name -> the wire status an engine reports for it (close reasons)
ERRORS_STATUS = {n: s for (n, s) in W.ERRORS.values()}


class CodecError(Exception):
    """An error class of the spec; .name is its name."""

    def __init__(self, name):
        assert name in ERROR_VALUES, name
        super().__init__(name)
        self.name = name


# ---------------------------------------------------------------- header

_FMT_OF_SIZE = {1: "B", 2: "H", 4: "I", 8: "Q"}
# The struct format follows the field table, so a change of the table in the
# toml changes the oracle too. Byte order "big" on every host.
HEADER = struct.Struct(">" + "".join(_FMT_OF_SIZE[s] for (_n, _o, s) in W.HEADER_FIELDS))
FIELD_NAMES = tuple(n for (n, _o, _s) in W.HEADER_FIELDS)
assert HEADER.size == W.HEADER_SIZE
FIELD_MAX = {n: (1 << (8 * s)) - 1 for (n, _o, s) in W.HEADER_FIELDS}

_PROTO_MASK = {n: ((1 << w) - 1) << b for (n, b, w) in W.PROTO_FIELDS}
_PROTO_SHIFT = {n: b for (n, b, _w) in W.PROTO_FIELDS}


def proto_field(proto, name):
    return (proto & _PROTO_MASK[name]) >> _PROTO_SHIFT[name]


def proto_make(opcode, origin=0, more=0, internal_a=0, internal_b=0):
    v = 0
    for name, val in (("opcode", opcode), ("origin", origin), ("more", more),
                      ("internal_a", internal_a), ("internal_b", internal_b)):
        v |= (val << _PROTO_SHIFT[name]) & _PROTO_MASK[name]
    return v


def make_header(**kw):
    h = {n: 0 for n in FIELD_NAMES}
    for k, v in kw.items():
        assert k in h, k
        h[k] = v
    return h


def encode_header(h):
    return HEADER.pack(*(h[n] for n in FIELD_NAMES))


def decode_header(b):
    """16 bytes -> header dict; fewer -> incomplete. Never fails otherwise."""
    if len(b) < W.HEADER_SIZE:
        raise CodecError("incomplete")
    return dict(zip(FIELD_NAMES, HEADER.unpack_from(b, 0)))


def opcode_info(opcode):
    """(name, type, role, on_wire, echo) or None for a value outside the table."""
    return W.OPCODES.get(opcode)


def check_received(h):
    """The conforming-receiver check (WIRE-7): None, or the first failing class."""
    proto = h["proto"]
    info = opcode_info(proto_field(proto, "opcode"))
    if info is None or not info[3]:
        return "bad_opcode"
    if proto_field(proto, "origin"):
        return "forged_origin"
    if h["status"] != W.STATUS_SUCCESS:
        return "nonzero_status"
    if proto_field(proto, "more") and info[1] != "regular":
        return "more_not_allowed"
    if info[2] == "response" and h["message_id"] == 0:
        return "zero_response_id"
    return None


# ---------------------------------------------------------------- frames


def encode_frame(h, text_headers, body):
    if len(text_headers) > W.MAX_TEXT_HEADERS_LEN:
        raise CodecError("headers_too_long")
    if len(body) > W.MAX_BODY_LEN:
        raise CodecError("body_too_long")
    h = dict(h, text_headers_len=len(text_headers), body_len=len(body))
    return encode_header(h) + bytes(text_headers) + bytes(body)


def parse_frame(b):
    """First complete frame of b: (header, text_headers, body, consumed)."""
    h = decode_header(b)
    end_th = W.HEADER_SIZE + h["text_headers_len"]
    end = end_th + h["body_len"]
    if len(b) < end:
        raise CodecError("incomplete")
    return h, bytes(b[W.HEADER_SIZE:end_th]), bytes(b[end_th:end]), end


def stream_decode(chunks, validate=False, max_text_headers_len=W.MAX_TEXT_HEADERS_LEN,
                  max_body_len=W.MAX_BODY_LEN):
    """What an incremental decoder fed `chunks` one after another reports.

    Returns (frames, error, at_boundary). A correct incremental decoder is
    insensitive to how the stream is split, so the model works on the
    concatenation. Each header is checked as soon as its 16 bytes are in:
    first the receiver check (when validating), then the limits in force.
    """
    data = b"".join(bytes(c) for c in chunks)
    frames = []
    pos = 0
    while True:
        rest = len(data) - pos
        if rest < W.HEADER_SIZE:
            return frames, None, rest == 0
        h = decode_header(data[pos:pos + W.HEADER_SIZE])
        if validate:
            err = check_received(h)
            if err:
                return frames, err, False
        if h["text_headers_len"] > max_text_headers_len:
            return frames, "headers_too_long", False
        if h["body_len"] > max_body_len:
            return frames, "body_too_long", False
        try:
            h, th, body, used = parse_frame(data[pos:])
        except CodecError:
            return frames, None, False
        frames.append((h, th, body))
        pos += used


# ---------------------------------------------------------------- text headers

CRLF = W.LINE_END
SEP = W.SEPARATOR
TRIM = W.VALUE_TRIM


def iterate_headers(b):
    """What a caller looping "until none" gets from the WIRE-4.2 iterator."""
    b = bytes(b)
    out = []
    i, n = 0, len(b)
    while i < n:
        if b[i:i + 2] == CRLF:  # empty lines are skipped
            i += 2
            continue
        e = b.find(CRLF, i)
        if e < 0:  # the last line may lack CR LF
            line, i = b[i:], n
        else:
            line, i = b[i:e], e + 2
        c = line.find(SEP)
        if c < 0:
            name, val = line, b""
        else:
            name, val = line[:c], line[c + 1:].strip(TRIM)
        if not name:  # an empty name ends the iteration
            break
        out.append((name, val))
    return out


def is_name_byte(c):
    return 0x21 <= c <= 0x7E and c != SEP[0]


def is_value_byte(c):
    return c == 0x09 or 0x20 <= c <= 0x7E or c >= 0x80


def validate_headers_at(b):
    """Strict validator (WIRE-4.3): None, or (class, offset of offending byte).

    Lines are examined left to right and the first offending byte decides.
    A CR or LF that is not part of a line-ending CR LF is offending; its class
    says what the line lacked at that point: before any name byte an
    empty_line, inside the name missing_colon, before any value byte
    empty_value, after value bytes bad_value_char (or missing_crlf for a CR
    that is the block's last byte).
    """
    b = bytes(b)
    n = len(b)
    if n > W.MAX_TEXT_HEADERS_LEN:
        return "headers_too_long", W.MAX_TEXT_HEADERS_LEN
    i = 0
    while i < n:
        start = i
        # name
        while i < n and b[i] != SEP[0]:
            c = b[i]
            if c in (0x0D, 0x0A):
                return ("empty_line", i) if i == start else ("missing_colon", i)
            if not is_name_byte(c):
                return "bad_name_char", i
            i += 1
        if i == n:
            return ("empty_line", i) if i == start else ("missing_colon", i)
        if i == start:
            return "empty_name", i
        i += 1  # the colon
        # value: OWS value OWS CRLF, with at least one non-OWS byte
        seen = False
        while True:
            if i == n:
                return ("missing_crlf", i) if seen else ("empty_value", i)
            c = b[i]
            if c in (0x0D, 0x0A) and not seen:
                return "empty_value", i
            if c == 0x0D:
                if i + 1 == n:  # input ends in the CR phase
                    return "missing_crlf", n
                if b[i + 1] == 0x0A:
                    i += 2
                    break
                return "bad_value_char", i
            if not is_value_byte(c):
                return "bad_value_char", i
            if c not in TRIM:
                seen = True
            i += 1
    return None


def validate_headers(b):
    r = validate_headers_at(b)
    return None if r is None else r[0]


def serialise_line(block_len, name, value, cap=None):
    """One append (WIRE-4.4): the line's bytes, or CodecError, checks in the
    order of the spec's table. cap: the caller's buffer size (None = ample)."""
    name, value = bytes(name), bytes(value)
    if not name:
        raise CodecError("empty_name")
    if not all(is_name_byte(c) for c in name):
        raise CodecError("bad_name_char")
    if not value:
        raise CodecError("empty_value")
    if not all(is_value_byte(c) for c in value):
        raise CodecError("bad_value_char")
    if value[0] in TRIM or value[-1] in TRIM:
        raise CodecError("value_not_canonical")
    line = name + SEP + value + CRLF
    if cap is not None and block_len + len(line) > cap:
        raise CodecError("no_space")
    if block_len + len(line) > W.MAX_TEXT_HEADERS_LEN:
        raise CodecError("headers_too_long")
    return line


def serialise_headers(pairs, cap=None):
    """The block of all pairs, or CodecError for the first refused one."""
    out = b""
    for name, value in pairs:
        out += serialise_line(len(out), name, value, cap)
    return out


def serialise_keep_going(pairs, cap=None):
    """(block, [None or class per pair]): a refusal leaves the block as is."""
    out, errs = b"", []
    for name, value in pairs:
        try:
            out += serialise_line(len(out), name, value, cap)
            errs.append(None)
        except CodecError as e:
            errs.append(e.name)
    return out, errs


# ---------------------------------------------------------------- addresses


def _has_control(b):
    return any(c < 0x20 or c == 0x7F for c in b)


def parse_address(value):
    """An address value -> dict(kind, host, port | path, abstract)."""
    value = bytes(value)
    parts = value.split(W.ADDRESS_PART_SEPARATOR)
    if len(parts) == 3:
        proto, host, port = parts
        if proto != W.ADDRESS_TCP:
            raise CodecError("address_protocol")
        if len(host) > W.MAX_HOST_LEN or _has_control(host):
            raise CodecError("address_host")
        if not (1 <= len(port) <= 5) or not all(0x30 <= c <= 0x39 for c in port) \
                or int(port) > 65535:
            raise CodecError("address_port")
        return {"kind": "tcp", "host": host, "port": int(port)}
    if len(parts) == 2:
        proto, path = parts
        if proto != W.ADDRESS_UDS:
            raise CodecError("address_protocol")
        if len(path) > W.MAX_UDS_PATH_LEN or 0 in path:
            raise CodecError("address_path")
        # `uds|@name` (extension): an abstract socket called `name`; the
        # 107-byte limit counts the `@`, which takes the leading NUL's place.
        abstract = path.startswith(W.ADDRESS_ABSTRACT_PREFIX)
        return {"kind": "uds", "path": path[len(W.ADDRESS_ABSTRACT_PREFIX):] if abstract else path,
                "abstract": abstract}
    raise CodecError("address_parts")


def find_address(block):
    """First ~connect_to / ~listen_on header of a block wins, whichever."""
    for name, value in iterate_headers(block):
        if name in (W.HEADER_CONNECT_TO, W.HEADER_LISTEN_ON):
            a = parse_address(value)
            a["listen"] = name == W.HEADER_LISTEN_ON
            return a
    raise CodecError("address_missing")


def format_address(a):
    """WIRE-5.2.8: the value, refusing what parse_address would refuse (a
    `|` inside a host or path would change the number of parts)."""
    sep = W.ADDRESS_PART_SEPARATOR
    if a["kind"] == "tcp":
        host = a["host"]
        if len(host) > W.MAX_HOST_LEN or _has_control(host) or sep in host:
            raise CodecError("address_host")
        if not 0 <= a["port"] <= 65535:
            raise CodecError("address_port")
        return W.ADDRESS_TCP + sep + host + sep + str(a["port"]).encode()
    path = (W.ADDRESS_ABSTRACT_PREFIX if a["abstract"] else b"") + a["path"]
    if len(path) > W.MAX_UDS_PATH_LEN or 0 in path or sep in path:
        raise CodecError("address_path")
    if not a["abstract"] and a["path"].startswith(W.ADDRESS_ABSTRACT_PREFIX):
        raise CodecError("address_path")  # would read back as an abstract name
    return W.ADDRESS_UDS + sep + path


# ---------------------------------------------------------------- vectors


def shared_interop_dir():
    """The shared vectors: $TOFU_VECTORS_DIR, /work/shared/interop or
    ../shared/interop beside the repository; None when absent."""
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.abspath(os.path.join(here, "..", ".."))
    for d in (os.environ.get("TOFU_VECTORS_DIR"), os.path.join(repo, "..", "shared", "interop"),
              "/work/shared/interop"):
        if d and os.path.isdir(d):
            return os.path.abspath(d)
    return None


def load_vector_set(name):
    """The tests of one shared vector set, or None when it is absent."""
    d = shared_interop_dir()
    if d is None:
        return None
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def check_against_vectors():
    """Returns (checked, failures, message). Skips (checked=0) when absent."""
    vs = load_vector_set("textheaders-iterator")
    if vs is None:
        return 0, [], "textheaders-iterator.json not found (set TOFU_VECTORS_DIR); skipped"
    failures = []
    for t in vs["tests"]:
        got = [[n.hex(), v.hex()] for (n, v) in iterate_headers(bytes.fromhex(t["input"]))]
        if got != t["headers"]:
            failures.append((t["tcId"], t["comment"], got, t["headers"]))
    return len(vs["tests"]), failures, f"textheaders-iterator: {len(vs['tests'])} vectors"


def main():
    n, failures, msg = check_against_vectors()
    if n == 0:
        print(f"oracle: {msg}", file=sys.stderr)
        return 0
    for tc, comment, got, want in failures:
        print(f"oracle: tcId {tc} ({comment}): got {got}, vector says {want}", file=sys.stderr)
    print(f"oracle: {msg}, {n - len(failures)} agree, {len(failures)} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
