"""Codec cases: golden vectors, round trips, and differential testing of the
implementation's codec against the oracle on generated (and hostile) input.
All run through the codec testee."""
from hypothesis import strategies as st

from .. import oracle as O
from .. import wire as W
from ..registry import case
from ..testee import Skip, hexb

# ---------------------------------------------------------------- helpers


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def oracle_call(fn, *a, **kw):
    try:
        return ("ok", fn(*a, **kw))
    except O.CodecError as e:
        return ("error", e.name)


def testee_result(resp):
    if "error" in resp:
        return ("error", resp["error"])
    return ("ok", resp["ok"])


def hdr_json(h):
    return {n: h[n] for n in O.FIELD_NAMES}


def same(ctx, what, got, want, given):
    expect(got == want, f"{what}: implementation says {got!r}, the spec says {want!r} for {given}")


# Strategies

u = lambda bits: st.integers(0, (1 << bits) - 1)  # noqa: E731
headers = st.fixed_dictionaries({
    "channel_number": u(16), "proto": u(8), "status": u(8), "message_id": u(64),
    "text_headers_len": u(16), "body_len": u(16)})
# Headers a conforming receiver mostly accepts, to reach the later checks.
plausible_headers = st.fixed_dictionaries({
    "channel_number": u(16),
    "proto": st.builds(lambda op, o, m, a, b: O.proto_make(op, o, m, a, b),
                       st.integers(0, 15), st.sampled_from([0, 0, 0, 1]), st.booleans(),
                       st.booleans(), st.booleans()),
    "status": st.sampled_from([0, 0, 0, 1, 22, 255]),
    "message_id": st.one_of(st.just(0), u(64)),
    "text_headers_len": u(16), "body_len": u(16)})

# Text-header blocks built from the tokens that matter to the grammar, plus
# raw bytes: the adversarial input of the iterator, validator and address.
TOKENS = [b"a", b"Name", b"x-y", b":", b"::", b"\r\n", b"\r", b"\n", b" ", b"\t", b"\r\n\r\n",
          b"\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"v", b"1", b"|", b"~connect_to",
          b"~listen_on", b"tcp", b"uds", b"tcp|127.0.0.1|7099", b"uds|/tmp/s", b"@", b"+",
          b"_", b"65535", b"65536", b"0"]
blocks = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=24).map(b"".join),
    st.binary(max_size=64),
    st.lists(st.tuples(st.sampled_from([b"a", b"~connect_to", b"~listen_on", b" k", b"k "]),
                       st.sampled_from([b":", b": ", b":\t", b""]),
                       st.sampled_from([b"v", b"tcp|h|1", b"uds|/p", b"", b" x ", b"a:b"]),
                       st.sampled_from([b"\r\n", b"\r\n\r\n", b"\n", b""])),
             max_size=6).map(lambda ls: b"".join(b"".join(t) for t in ls)),
)
name_bytes = st.one_of(st.binary(min_size=0, max_size=12),
                       st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e),
                               min_size=1, max_size=12).map(str.encode))
value_bytes = st.one_of(st.binary(min_size=0, max_size=16),
                        st.text(min_size=1, max_size=16).map(lambda s: s.encode("utf-8")),
                        st.sampled_from([b"a\r\nb:c", b" v", b"v ", b"\tv", b"a:b", b"\x7f"]))


def require(ctx, op, **probe):
    ctx.codec.call(op, **probe)  # raises Skip when unsupported


# ---------------------------------------------------------------- WIRE-2: header

# Frames Zig tofu 1700d2a put on the wire (reference section 1.3 and 10):
# (channel, proto, status, message_id, thl, bl) -> the 16 header bytes.
GOLDEN_HEADERS = [
    ((0x1234, 0x03, 0x56, 0x0102030405060708, 0xA1A2, 0xB1B2), "123403560102030405060708a1a2b1b2"),
    ((0x1A2B, 0x03, 0, 1, 0x20, 0), "1a2b0300000000000000000100200000"),
    ((0x0101, 0x03, 0, 7, 0x1F, 0), "01010300000000000000000700" "1f0000"),
    ((0x04D2, 0x04, 0, 1, 0x20, 0), "04d20400000000000000000100200000"),
    ((0x1A2B, 0x00, 0, 2, 0, 5), "1a2b0000000000000000000200000005"),
    ((0x04D2, 0x01, 0, 0x0102030405060708, 0, 0), "04d20100010203040506070800000000"),
    ((0x1A2B, 0x22, 0, 42, 0x0E, 5), "1a2b2200000000000000002a000e0005"),
    ((0x1A2B, 0x05, 0, 3, 0, 0), "1a2b0500000000000000000300000000"),
    ((0x04D2, 0x06, 0, 3, 0, 0), "04d20600000000000000000300000000"),
    ((0x1A2B, 0x07, 0, 4, 0, 0), "1a2b0700000000000000000400000000"),
]


def golden_header(t):
    return dict(zip(O.FIELD_NAMES, t))


@case("WIRE-2.1", "codec", title="16-byte header, big-endian fields in declaration order")
def header_layout(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr_json(O.make_header()))
    for t, want in GOLDEN_HEADERS:
        h = golden_header(t)
        got = c.call("encode_header", header=h)
        same(ctx, "encode_header", testee_result(got), ("ok", want), h)
        got = c.call("decode_header", bytes=want)
        same(ctx, "decode_header", testee_result(got), ("ok", h), want)

    @ctx.given(headers)
    def encode_is_big_endian(h):
        same(ctx, "encode_header", testee_result(c.call("encode_header", header=h)),
             ("ok", O.encode_header(h).hex()), h)

    @ctx.given(st.binary(min_size=16, max_size=16))
    def decode_any_16_bytes(b):
        same(ctx, "decode_header", testee_result(c.call("decode_header", bytes=hexb(b))),
             ("ok", O.decode_header(b)), b.hex())


@case("WIRE-2.2", "codec", title="decode(encode(h)) == h and fewer than 16 bytes is incomplete")
def header_round_trip(ctx):
    c = ctx.codec
    require(ctx, "decode_header", bytes="00" * 16)

    @ctx.given(headers)
    def round_trip(h):
        enc = c.call("encode_header", header=h)
        expect("ok" in enc, f"encode_header refused {h}: {enc}")
        dec = c.call("decode_header", bytes=enc["ok"])
        same(ctx, "decode(encode(h))", testee_result(dec), ("ok", h), h)

    @ctx.given(st.binary(max_size=15))
    def short_is_incomplete(b):
        same(ctx, "decode_header", testee_result(c.call("decode_header", bytes=hexb(b))),
             ("error", "incomplete"), b.hex())


@case("WIRE-2.3", "codec", title="proto byte: opcode bits 0-3, origin 4, more 5, internal_a 6, internal_b 7")
def proto_bits(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr_json(O.make_header()))
    named = {  # facts from the reference: HelloRequest, default ByeSignal, all flags + 9
        0x03: dict(opcode=3), 0x47: dict(opcode=7, internal_a=1),
        0xF9: dict(opcode=9, origin=1, more=1, internal_a=1, internal_b=1),
        0x22: dict(opcode=2, more=1), 0x12: dict(opcode=2, origin=1), 0x40: dict(opcode=0, internal_a=1),
        0x45: dict(opcode=5, internal_a=1), 0x20: dict(opcode=0, more=1)}
    for proto, fields in named.items():
        expect(O.proto_make(**fields) == proto, f"oracle proto_make({fields}) != {proto:#x}")
    for proto in range(256):  # every proto byte passes through unchanged
        h = O.make_header(proto=proto, message_id=1, channel_number=1)
        enc = c.call("encode_header", header=h)
        same(ctx, "encode_header proto byte", testee_result(enc)[1][4:6] if "ok" in enc else enc,
             f"{proto:02x}", h)
        dec = c.call("decode_header", bytes=enc["ok"])
        same(ctx, "decode_header proto", testee_result(dec), ("ok", h), enc["ok"])


# ---------------------------------------------------------------- WIRE-1: frames

frames_parts = st.tuples(headers, st.binary(max_size=80), st.binary(max_size=80))


@case("WIRE-1.1", "codec", title="a frame is the header, then <thl> bytes of text headers, then <bl> bytes of body")
def frame_layout(ctx):
    c = ctx.codec
    require(ctx, "parse_frame", bytes="")
    # E6 of the reference: Signal, more, Job-ID:12345, body "chunk".
    e6 = "1a2b2200000000000000002a000e0005" + b"Job-ID:12345\r\n".hex() + b"chunk".hex()
    got = c.call("parse_frame", bytes=e6)
    same(ctx, "parse_frame(E6)", testee_result(got),
         ("ok", {"header": golden_header((0x1A2B, 0x22, 0, 42, 14, 5)),
                 "text_headers": b"Job-ID:12345\r\n".hex(), "body": b"chunk".hex(),
                 "consumed": 35}), e6)

    def want_parse(b):
        r = oracle_call(O.parse_frame, b)
        if r[0] == "error":
            return r
        h, th, body, used = r[1]
        return ("ok", {"header": h, "text_headers": th.hex(), "body": body.hex(), "consumed": used})

    @ctx.given(frames_parts, st.binary(max_size=8), st.integers(0, 200))
    def parse_matches(parts, trailing, cut):
        h, th, body = parts
        h = dict(h, text_headers_len=len(th), body_len=len(body))
        full = O.encode_header(h) + th + body + trailing
        for b in (full, full[:cut]):
            same(ctx, "parse_frame", testee_result(c.call("parse_frame", bytes=hexb(b))),
                 want_parse(b), b.hex())

    @ctx.given(st.binary(max_size=48))
    def parse_garbage(b):
        same(ctx, "parse_frame", testee_result(c.call("parse_frame", bytes=hexb(b))),
             want_parse(b), b.hex())


@case("WIRE-1.2", "codec", title="the encoder takes the lengths from the parts; parts over 65535 bytes are refused")
def frame_encode(ctx):
    c = ctx.codec
    require(ctx, "encode_frame", header=hdr_json(O.make_header()), text_headers="", body="")

    @ctx.given(frames_parts)
    def encode_matches(parts):
        h, th, body = parts
        got = c.call("encode_frame", header=h, text_headers=hexb(th), body=hexb(body))
        want = oracle_call(O.encode_frame, h, th, body)
        same(ctx, "encode_frame", testee_result(got), (want[0], want[1].hex()), (h, th, body))

    big = "00" * (W.MAX_TEXT_HEADERS_LEN + 1)
    ok_max = "61" * W.MAX_BODY_LEN
    h = hdr_json(O.make_header(proto=0, channel_number=1, message_id=1))
    same(ctx, "encode_frame, 65536-byte text headers",
         testee_result(c.call("encode_frame", header=h, text_headers=big, body="")),
         ("error", "headers_too_long"), "65536 bytes")
    same(ctx, "encode_frame, 65536-byte body",
         testee_result(c.call("encode_frame", header=h, text_headers="", body=big)),
         ("error", "body_too_long"), "65536 bytes")
    r = c.call("encode_frame", header=h, text_headers="", body=ok_max)
    expect("ok" in r and len(r["ok"]) == 2 * (16 + W.MAX_BODY_LEN), "a 65535-byte body must be accepted")


def stream_want(chunks, validate, mt, mb):
    frames, err, at_b = O.stream_decode(chunks, validate, mt, mb)
    return {"frames": [{"header": h, "text_headers": th.hex(), "body": b.hex()} for h, th, b in frames],
            "error": err, "at_boundary": at_b}


def split_at(data, cuts):
    cuts = sorted(set(x % (len(data) + 1) for x in cuts))
    out, prev = [], 0
    for x in cuts + [len(data)]:
        out.append(data[prev:x])
        prev = x
    return out


stream_frames = st.lists(st.tuples(plausible_headers, st.binary(max_size=40), st.binary(max_size=40)),
                         max_size=5)


@case("WIRE-1.3", "codec", title="a stream is frames back to back; the decoder is insensitive to how it is split")
def stream_decoding(ctx):
    c = ctx.codec
    require(ctx, "stream_decode", chunks=[], validate=False, max_text_headers_len=65535,
            max_body_len=65535)

    def check(chunks, validate, mt, mb):
        got = c.call("stream_decode", chunks=[hexb(x) for x in chunks], validate=validate,
                     max_text_headers_len=mt, max_body_len=mb)
        same(ctx, f"stream_decode(validate={validate}, limits {mt}/{mb})", testee_result(got),
             ("ok", stream_want(chunks, validate, mt, mb)), [x.hex() for x in chunks])

    @ctx.given(stream_frames, st.lists(st.integers(0, 10_000), max_size=12), st.booleans(),
               st.sampled_from([65535, 65535, 40, 8, 1]), st.sampled_from([65535, 65535, 40, 8, 1]),
               st.integers(0, 64))
    def any_split(fr, cuts, validate, mt, mb, drop):
        data = b"".join(O.encode_frame(h, th, b) for h, th, b in fr)
        data = data[:len(data) - drop] if drop and len(data) > drop else data
        check(split_at(data, cuts), validate, mt, mb)

    @ctx.given(st.lists(st.binary(max_size=40), max_size=5), st.booleans())
    def garbage(chunks, validate):
        check(chunks, validate, 65535, 65535)

    # one byte at a time
    fr = O.encode_frame(golden_header((7, 0x22, 0, 9, 0, 0)), b"a:b\r\n", b"xyz") * 3
    check([fr[i:i + 1] for i in range(len(fr))], True, 65535, 65535)


# ---------------------------------------------------------------- WIRE-7: receiver


def check_received_case(ctx, cls, examples):
    c = ctx.codec
    require(ctx, "check_received", header=hdr_json(O.make_header(message_id=1)))
    for fields in examples:
        h = hdr_json(O.make_header(**fields))
        same(ctx, "check_received", testee_result(c.call("check_received", header=h)),
             ("error", cls), h)
        expect(O.check_received(h) == cls, f"oracle disagrees with the case about {h}")


@case("WIRE-7.1", "codec", title="a receiver rejects opcodes 8-15 (bad_opcode)")
def recv_bad_opcode(ctx):
    check_received_case(ctx, "bad_opcode", [
        dict(proto=op | flags, message_id=mid, status=st_)
        for op in range(8, 16) for flags in (0, 0x10, 0x20) for mid in (0, 1) for st_ in (0, 5)])


@case("WIRE-7.2", "codec", title="a receiver rejects origin = engine (forged_origin)")
def recv_forged_origin(ctx):
    check_received_case(ctx, "forged_origin", [
        dict(proto=op | 0x10 | extra, message_id=mid, status=st_)
        for op in range(8) for extra in (0, 0x20, 0xC0) for mid in (0, 1) for st_ in (0, 22)])


@case("WIRE-7.3", "codec", title="a receiver rejects a non-zero status (nonzero_status)")
def recv_nonzero_status(ctx):
    check_received_case(ctx, "nonzero_status", [
        dict(proto=op | extra, message_id=mid, status=st_)
        for op in range(8) for extra in (0, 0x20) for mid in (0, 1) for st_ in (1, 19, 22, 255)])


@case("WIRE-7.4", "codec", title="a receiver rejects more = 1 on hello and bye frames (more_not_allowed)")
def recv_more(ctx):
    check_received_case(ctx, "more_not_allowed", [
        dict(proto=op | 0x20 | extra, message_id=mid)
        for op in range(3, 8) for extra in (0, 0x40, 0x80) for mid in (0, 1)])


@case("WIRE-7.5", "codec", title="a receiver rejects a response-role frame with message_id 0 (zero_response_id)")
def recv_zero_id(ctx):
    check_received_case(ctx, "zero_response_id", [
        dict(proto=op | extra) for op in (1, 4, 6) for extra in (0, 0x40, 0x80, 0xC0)]
        + [dict(proto=0x21)])


@case("WIRE-7.6", "codec", title="the receiver checks run in order and accept everything else")
def recv_order(ctx):
    c = ctx.codec
    require(ctx, "check_received", header=hdr_json(O.make_header(message_id=1)))
    accepted = 0
    for proto in range(256):
        for status in (0, 1):
            for mid in (0, 1):
                h = hdr_json(O.make_header(proto=proto, status=status, message_id=mid, channel_number=9))
                want = O.check_received(h)
                accepted += want is None
                same(ctx, "check_received", testee_result(c.call("check_received", header=h)),
                     ("ok", True) if want is None else ("error", want), h)
    expect(accepted > 0, "the oracle accepted nothing")

    @ctx.given(headers)
    def any_header(h):
        want = O.check_received(h)
        same(ctx, "check_received", testee_result(c.call("check_received", header=h)),
             ("ok", True) if want is None else ("error", want), h)


# ---------------------------------------------------------------- WIRE-4: text headers


def iter_want(b):
    return ("ok", [[n.hex(), v.hex()] for n, v in O.iterate_headers(b)])


@case("WIRE-4.2.1", "codec", title="the iterator yields exactly what Zig tofu's TextHeaderIterator yields")
def iterator_vectors(ctx):
    c = ctx.codec
    require(ctx, "iterate_headers", bytes="")
    vs = O.load_vector_set("textheaders-iterator")
    if vs is not None:
        for t in vs["tests"]:
            got = testee_result(c.call("iterate_headers", bytes=t["input"]))
            expect(got == ("ok", t["headers"]),
                   f"iterate_headers, Zig vector tcId {t['tcId']} ({t['comment']}): "
                   f"implementation yields {got}, Zig yields {t['headers']} for {t['input']}")
    else:
        ctx.note("shared textheaders-iterator vectors absent: only the properties ran")

    @ctx.given(blocks)
    def iterator_matches(b):
        same(ctx, "iterate_headers", testee_result(c.call("iterate_headers", bytes=hexb(b))),
             iter_want(b), b.hex())
    if vs is None:
        raise Skip("shared textheaders-iterator vectors absent (properties passed)")


def validate_want(b):
    e = O.validate_headers(b)
    return ("ok", True) if e is None else ("error", e)


VALIDATOR_GOLDEN = [
    (b"", None), (b"a:b\r\n", None), (b"a: b \r\n", None), (b"a:\tb\t\r\n", None),
    (b"a:b:c\r\n", None), (b"~connect_to:tcp|127.0.0.1|7099\r\nJob-ID:1\r\n", None),
    (b"a:\x80\xff\r\n", None),
    (b"a:b", "missing_crlf"), (b"a:b\r\nc:d", "missing_crlf"), (b"a:b\n", "bad_value_char"),
    (b":b\r\n", "empty_name"), (b"a b:c\r\n", "bad_name_char"), (b" a:b\r\n", "bad_name_char"),
    (b"a\x00:b\r\n", "bad_name_char"), (b"a\x7f:b\r\n", "bad_name_char"),
    (b"a:b\x00\r\n", "bad_value_char"), (b"a:b\nc:d\r\n", "bad_value_char"),
    (b"a:\r\n", "empty_value"), (b"a: \t \r\n", "empty_value"), (b"ab\r\n", "missing_colon"),
    (b"\r\n", "empty_line"), (b"a:b\r\n\r\n", "empty_line"), (b"a:b\r\n\r\nc:d\r\n", "empty_line"),
    (b"a:b\r\nc\r\n", "missing_colon"), (b"a b\r\n:x\r\n", "bad_name_char"),
    (b":x\r\na b\r\n", "empty_name"), (b"a:\r\nb c:d\r\n", "empty_value"),
    (b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 3) + b"\r\n", "headers_too_long"),  # 65536 bytes
    (b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 4) + b"\r\n", None),  # 65535 bytes
]


@case("WIRE-4.3.1", "codec", title="the strict validator accepts exactly name:OWS value OWS CRLF lines; first offence decides")
def validator(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")
    for b, cls in VALIDATOR_GOLDEN:
        expect(O.validate_headers(b) == cls, f"oracle disagrees with the golden table on {b[:40]!r}")
        same(ctx, "validate_headers", testee_result(c.call("validate_headers", bytes=hexb(b))),
             ("ok", True) if cls is None else ("error", cls), b[:60])

    @ctx.given(blocks)
    def validator_matches(b):
        same(ctx, "validate_headers", testee_result(c.call("validate_headers", bytes=hexb(b))),
             validate_want(b), b.hex())

    @ctx.given(st.lists(st.tuples(name_bytes, value_bytes), max_size=4))
    def serialised_blocks_validate(pairs):
        # whatever the serialiser accepts, the validator must accept, and the
        # iterator must read back unchanged
        r = oracle_call(O.serialise_headers, pairs)
        if r[0] == "ok":
            same(ctx, "validate_headers", testee_result(c.call("validate_headers", bytes=hexb(r[1]))),
                 ("ok", True), r[1])


@case("WIRE-4.4.1", "codec", title="the serialiser writes name:value CRLF and refuses what would read back differently")
def serialiser(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[])
    golden = [
        ([(b"Job-ID", b"12345")], ("ok", b"Job-ID:12345\r\n")),
        ([(b"~connect_to", b"tcp|127.0.0.1|7099")], ("ok", b"~connect_to:tcp|127.0.0.1|7099\r\n")),
        ([(b"a", b"b"), (b"a", b"c")], ("ok", b"a:b\r\na:c\r\n")),
        ([(b"a", b"x\r\nevil:1")], ("error", "bad_value_char")),
        ([(b"a", b"x\nevil")], ("error", "bad_value_char")),
        ([(b"", b"v")], ("error", "empty_name")),
        ([(b"a b", b"v")], ("error", "bad_name_char")),
        ([(b"a:b", b"v")], ("error", "bad_name_char")),
        ([(b" a", b"v")], ("error", "bad_name_char")),
        ([(b"a", b"")], ("error", "empty_value")),
        ([(b"a", b" v")], ("error", "value_not_canonical")),
        ([(b"a", b"v\t")], ("error", "value_not_canonical")),
        ([(b"ok", b"v"), (b"a", b"")], ("error", "empty_value")),
    ]
    for pairs, want in golden:
        want = (want[0], want[1].hex() if want[0] == "ok" else want[1])
        got = c.call("serialise_headers", headers=[[hexb(n), hexb(v)] for n, v in pairs])
        same(ctx, "serialise_headers", testee_result(got), want, pairs)

    @ctx.given(st.lists(st.tuples(name_bytes, value_bytes), max_size=5))
    def serialiser_matches(pairs):
        got = c.call("serialise_headers", headers=[[hexb(n), hexb(v)] for n, v in pairs])
        want = oracle_call(O.serialise_headers, pairs)
        want = (want[0], want[1].hex() if want[0] == "ok" else want[1])
        same(ctx, "serialise_headers", testee_result(got), want, pairs)
        if want[0] == "ok":  # round trip through the implementation's iterator
            back = c.call("iterate_headers", bytes=got["ok"])
            same(ctx, "iterate(serialise(pairs))", testee_result(back),
                 ("ok", [[hexb(n), hexb(v)] for n, v in pairs]), pairs)


# ---------------------------------------------------------------- WIRE-5: addresses


def addr_json(a):
    out = {"kind": a["kind"]}
    if a["kind"] == "tcp":
        out.update(host=a["host"].hex(), port=a["port"])
    else:
        out.update(path=a["path"].hex(), abstract=a["abstract"])
    if "listen" in a:
        out["listen"] = a["listen"]
    return out


def addr_want(fn, b):
    r = oracle_call(fn, b)
    return (r[0], addr_json(r[1])) if r[0] == "ok" else r


ADDRESS_GOLDEN = [
    (b"tcp|127.0.0.1|7099", "ok"), (b"tcp||7099", "ok"), (b"tcp|::1|0", "ok"),
    (b"tcp|h|65535", "ok"), (b"uds|/tmp/app.sock", "ok"), (b"uds|", "ok"), (b"uds|@abstract", "ok"),
    (b"uds|" + b"p" * 107, "ok"), (b"uds|" + b"p" * 108, "address_path"), (b"uds|a\x00b", "address_path"),
    (b"tcp|" + b"h" * 255 + b"|1", "ok"), (b"tcp|" + b"h" * 256 + b"|1", "address_host"),
    (b"tcp|h\x01|1", "address_host"), (b"tcp|h|65536", "address_port"), (b"tcp|h|+7099", "address_port"),
    (b"tcp|h|-0", "address_port"), (b"tcp|h|7_099", "address_port"), (b"tcp|h|", "address_port"),
    (b"tcp|h|123456", "address_port"), (b"tcp|h| 1", "address_port"), (b"tcp|h|00080", "ok"),
    (b"xyz|h|1", "address_protocol"), (b"TCP|h|1", "address_protocol"), (b"tcp|h", "address_protocol"),
    (b"udp|/x", "address_protocol"), (b"uds|a|1", "address_protocol"), (b"tcp", "address_parts"),
    (b"", "address_parts"), (b"tcp|h|1|x", "address_parts"), (b"uds|a|b|c|d", "address_parts"),
]


@case("WIRE-5.1", "codec", title="address values: tcp|host|port and uds|path, with the error classes")
def address_values(ctx):
    c = ctx.codec
    require(ctx, "parse_address", value=b"uds|".hex())
    for v, cls in ADDRESS_GOLDEN:
        want = addr_want(O.parse_address, v)
        expect(want[0] == "ok" if cls == "ok" else want == ("error", cls),
               f"oracle disagrees with the golden table on {v!r}")
        same(ctx, "parse_address", testee_result(c.call("parse_address", value=hexb(v))), want, v)

    parts = st.sampled_from([b"tcp", b"uds", b"", b"127.0.0.1", b"7099", b"0", b"65536", b"/tmp/s",
                             b"@x", b"+1", b"h\x00", b"\x01", b"x" * 108, b"x" * 256])
    values = st.one_of(st.lists(parts, min_size=1, max_size=5).map(b"|".join), st.binary(max_size=24))

    @ctx.given(values)
    def address_matches(v):
        same(ctx, "parse_address", testee_result(c.call("parse_address", value=hexb(v))),
             addr_want(O.parse_address, v), v)


@case("WIRE-5.2", "codec", title="the first ~connect_to or ~listen_on header of a block wins; none is address_missing")
def address_find(ctx):
    c = ctx.codec
    require(ctx, "parse_address", headers=b"~listen_on:uds|\r\n".hex())
    golden = [
        (b"", ("error", "address_missing")),
        (b"a:b\r\n", ("error", "address_missing")),
        (b"~connect_to:tcp|h|1\r\n~listen_on:uds|/x\r\n", "ok"),
        (b"~listen_on:uds|/x\r\n~connect_to:tcp|h|1\r\n", "ok"),
        (b"~connect_to:a|b|c|d\r\n~connect_to:tcp|h|1\r\n", ("error", "address_parts")),
        (b":x\r\n~connect_to:tcp|h|1\r\n", ("error", "address_missing")),
        (b" ~connect_to:tcp|h|1\r\n", ("error", "address_missing")),
        (b"~connect_to: tcp|h|1 \r\n", "ok"),
    ]
    for b, want in golden:
        ow = addr_want(O.find_address, b)
        expect(ow[0] == "ok" if want == "ok" else ow == want, f"oracle disagrees on {b!r}")
        same(ctx, "parse_address(headers)", testee_result(c.call("parse_address", headers=hexb(b))), ow, b)

    @ctx.given(blocks)
    def find_matches(b):
        same(ctx, "parse_address(headers)", testee_result(c.call("parse_address", headers=hexb(b))),
             addr_want(O.find_address, b), b)
