"""Codec cases for framing and the binary header (WIRE-1, WIRE-2, WIRE-3.3,
WIRE-11.3): golden vectors, round trips and differential testing against the
oracle on generated and hostile input, all through the codec testee."""
from hypothesis import strategies as st

from .. import oracle as O
from .. import wire as W
from ..registry import case
from ..testee import hexb
from .common import (expect, hdr, headers, oracle_call, plausible_headers, require, same,
                     testee_result)

# Annex A: (channel, proto, status, message_id), text headers, body -> frame.
E_CT = b"~connect_to:tcp|127.0.0.1|7099\r\n"
ANNEX_A = {
    "E1": ((0x1A2B, 0x03, 0, 1), E_CT, b"", "1a2b0300000000000000000100200000" + E_CT.hex()),
    "E2": ((0x0101, 0x03, 0, 7), b"~connect_to:uds|/tmp/app.sock\r\n", b"",
           "0101030000000000000000070" "01f0000" + b"~connect_to:uds|/tmp/app.sock\r\n".hex()),
    "E3": ((0x04D2, 0x04, 0, 1), E_CT, b"", "04d20400000000000000000100200000" + E_CT.hex()),
    "E4": ((0x1A2B, 0x00, 0, 2), b"", b"hello", "1a2b0000000000000000000200000005" + b"hello".hex()),
    "E5": ((0x04D2, 0x01, 0, 0x0102030405060708), b"", b"", "04d20100010203040506070800000000"),
    "E6": ((0x1A2B, 0x22, 0, 42), b"Job-ID:12345\r\n", b"chunk",
           "1a2b2200000000000000002a000e0005" + b"Job-ID:12345\r\n".hex() + b"chunk".hex()),
    "E7 ByeRequest": ((0x1A2B, 0x05, 0, 3), b"", b"", "1a2b0500000000000000000300000000"),
    "E7 ByeResponse": ((0x04D2, 0x06, 0, 3), b"", b"", "04d20600000000000000000300000000"),
    "E8": ((0x1A2B, 0x07, 0, 4), b"", b"", "1a2b0700000000000000000400000000"),
}


def annex_header(fields, th=b"", body=b""):
    cn, proto, status, mid = fields
    return hdr(channel_number=cn, proto=proto, status=status, message_id=mid,
               text_headers_len=len(th), body_len=len(body))


def frame_json(h, th, body, consumed=None):
    d = {"header": h, "text_headers": th.hex(), "body": body.hex()}
    if consumed is not None:
        d["consumed"] = consumed
    return d


def want_parse(b):
    r = oracle_call(O.parse_frame, b)
    if r[0] == "error":
        return r
    h, th, body, used = r[1]
    return ("ok", frame_json(h, th, body, used))


frames_parts = st.tuples(headers, st.binary(max_size=80), st.binary(max_size=80))


# ---------------------------------------------------------------- WIRE-1


@case("WIRE-1.1.1", "codec", title="frame = 16-byte header, <thl> text-header bytes, <bl> body bytes")
def frame_layout(ctx):
    c = ctx.codec
    require(ctx, "parse_frame", bytes="")

    @ctx.given(frames_parts, st.binary(max_size=8), st.integers(0, 200))
    def parse_matches(parts, trailing, cut):
        h, th, body = parts
        h = dict(h, text_headers_len=len(th), body_len=len(body))
        full = O.encode_header(h) + th + body + trailing
        for b in (full, full[:cut]):
            same("parse_frame", testee_result(c.call("parse_frame", bytes=hexb(b))), want_parse(b), b.hex())

    @ctx.given(st.binary(max_size=48))
    def parse_garbage(b):
        same("parse_frame", testee_result(c.call("parse_frame", bytes=hexb(b))), want_parse(b), b.hex())

    @ctx.given(frames_parts)
    def encode_matches(parts):
        h, th, body = parts
        got = c.call("encode_frame", header=h, text_headers=hexb(th), body=hexb(body))
        same("encode_frame", testee_result(got), ("ok", O.encode_frame(h, th, body).hex()), (h, th, body))


@case("WIRE-1.1.3", "codec", title="zero-length parts occupy no bytes and are ordinary")
def zero_length_parts(ctx):
    c = ctx.codec
    require(ctx, "encode_frame", header=hdr(), text_headers="", body="")
    for th, body in ((b"", b""), (b"a:b\r\n", b""), (b"", b"xyz")):
        h = hdr(channel_number=5, proto=0x02, message_id=9)
        want = O.encode_frame(h, th, body)
        got = c.call("encode_frame", header=h, text_headers=hexb(th), body=hexb(body))
        same("encode_frame", testee_result(got), ("ok", want.hex()), (th, body))
        same("parse_frame", testee_result(c.call("parse_frame", bytes=want.hex())), want_parse(want), want.hex())
    # three empty frames back to back in one chunk
    f = O.encode_frame(hdr(channel_number=5, proto=0x02, message_id=9), b"", b"")
    got = c.call("stream_decode", chunks=[(f * 3).hex()], validate=True,
                 max_text_headers_len=65535, max_body_len=65535)
    same("stream_decode", testee_result(got), ("ok", stream_want([f * 3], True, 65535, 65535)), (f * 3).hex())


def stream_want(chunks, validate, mt, mb):
    frames, err, at_b = O.stream_decode(chunks, validate, mt, mb)
    return {"frames": [frame_json(h, th, b) for h, th, b in frames], "error": err, "at_boundary": at_b}


def split_at(data, cuts):
    cuts = sorted(set(x % (len(data) + 1) for x in cuts))
    out, prev = [], 0
    for x in cuts + [len(data)]:
        out.append(data[prev:x])
        prev = x
    return out


def stream_check(c, chunks, validate=True, mt=65535, mb=65535):
    got = c.call("stream_decode", chunks=[hexb(x) for x in chunks], validate=validate,
                 max_text_headers_len=mt, max_body_len=mb)
    same(f"stream_decode(validate={validate}, limits {mt}/{mb})", testee_result(got),
         ("ok", stream_want(chunks, validate, mt, mb)), [x.hex() for x in chunks])


@case("WIRE-1.1.4", "codec", title="frames are reassembled whatever the segmentation")
def segmentation(ctx):
    c = ctx.codec
    require(ctx, "stream_decode", chunks=[], validate=False, max_text_headers_len=65535, max_body_len=65535)
    data = b"".join(bytes.fromhex(v[3]) for v in ANNEX_A.values())
    stream_check(c, [data])
    stream_check(c, [data[i:i + 1] for i in range(len(data))])
    stream_check(c, [data[i:i + 7] for i in range(0, len(data), 7)])

    @ctx.given(st.lists(st.integers(0, len(data)), max_size=30))
    def any_split(cuts):
        stream_check(c, split_at(data, cuts))


@case("WIRE-1.3.1", "codec", title="parts are at most 65535 bytes; a sender refuses longer ones")
def part_limits(ctx):
    c = ctx.codec
    require(ctx, "encode_frame", header=hdr(), text_headers="", body="")
    h = hdr(proto=0, channel_number=1, message_id=1)
    big = "00" * (W.MAX_TEXT_HEADERS_LEN + 1)
    same("encode_frame, 65536-byte text headers",
         testee_result(c.call("encode_frame", header=h, text_headers=big, body="")),
         ("error", "headers_too_long"), "65536 bytes")
    same("encode_frame, 65536-byte body",
         testee_result(c.call("encode_frame", header=h, text_headers="", body=big)),
         ("error", "body_too_long"), "65536 bytes")
    th, body = b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 4) + b"\r\n", b"b" * W.MAX_BODY_LEN
    r = c.call("encode_frame", header=h, text_headers=th.hex(), body=body.hex())
    expect(r.get("ok") == O.encode_frame(h, th, body).hex(),
           "a frame of 65535 + 65535 bytes (131086 in all) must be encoded exactly")
    r = c.call("parse_frame", bytes=r["ok"])
    expect(r.get("ok", {}).get("consumed") == W.MAX_FRAME_LEN, f"parse of the largest frame: {str(r)[:200]}")


# ---------------------------------------------------------------- WIRE-2


@case("WIRE-2.1.1", "codec", title="the header is 16 bytes: fields at their offsets, in order, no gaps")
def header_fields(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr())
    for name, off, size in W.HEADER_FIELDS:  # one field at a time, all bytes 0xFF
        h = hdr(**{name: (1 << (8 * size)) - 1})
        want = "00" * off + "ff" * size + "00" * (W.HEADER_SIZE - off - size)
        same(f"encode_header with only {name} set", testee_result(c.call("encode_header", header=h)),
             ("ok", want), h)


@case("WIRE-2.1.2", "codec", title="multi-byte fields are big-endian on every host")
def header_big_endian(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr())
    for name, off, size in W.HEADER_FIELDS:
        if size == 1:
            continue
        v = int.from_bytes(bytes(range(1, size + 1)), "big")  # 0x0102..
        h = hdr(**{name: v})
        want = "00" * off + bytes(range(1, size + 1)).hex() + "00" * (W.HEADER_SIZE - off - size)
        same(f"encode_header {name}={v:#x}", testee_result(c.call("encode_header", header=h)), ("ok", want), h)
        same(f"decode_header {want}", testee_result(c.call("decode_header", bytes=want)), ("ok", h), want)

    @ctx.given(headers)
    def encode_matches(h):
        same("encode_header", testee_result(c.call("encode_header", header=h)),
             ("ok", O.encode_header(h).hex()), h)


@case("WIRE-2.1.3", "codec", title="the worked example encodes to 12 34 03 56 01 .. 08 a1 a2 b1 b2 and back")
def worked_example(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr())
    h = hdr(channel_number=0x1234, proto=0x03, status=0x56, message_id=0x0102030405060708,
            text_headers_len=0xA1A2, body_len=0xB1B2)
    b = "123403560102030405060708a1a2b1b2"
    same("encode_header", testee_result(c.call("encode_header", header=h)), ("ok", b), h)
    same("decode_header", testee_result(c.call("decode_header", bytes=b)), ("ok", h), b)


@case("WIRE-2.1.4", "codec", title="every 16-byte sequence decodes to some header")
def decode_any(ctx):
    c = ctx.codec
    require(ctx, "decode_header", bytes="00" * 16)

    @ctx.given(st.binary(min_size=16, max_size=40))
    def decode_any_bytes(b):
        same("decode_header", testee_result(c.call("decode_header", bytes=hexb(b))),
             ("ok", O.decode_header(b)), b.hex())

    @ctx.given(headers)
    def round_trip(h):
        enc = c.call("encode_header", header=h)
        expect("ok" in enc, f"encode_header refused {h}: {enc}")
        same("decode(encode(h))", testee_result(c.call("decode_header", bytes=enc["ok"])), ("ok", h), h)


@case("WIRE-2.2.1", "codec", title="proto = opcode | origin<<4 | more<<5 | internal_a<<6 | internal_b<<7")
def proto_bits(ctx):
    c = ctx.codec
    require(ctx, "encode_header", header=hdr())
    named = {0x03: dict(opcode=3), 0x47: dict(opcode=7, internal_a=1),
             0xF9: dict(opcode=9, origin=1, more=1, internal_a=1, internal_b=1),
             0x22: dict(opcode=2, more=1), 0x12: dict(opcode=2, origin=1), 0x40: dict(opcode=0, internal_a=1),
             0x45: dict(opcode=5, internal_a=1), 0x20: dict(opcode=0, more=1), 0x87: dict(opcode=7, internal_b=1)}
    for proto, fields in named.items():
        expect(O.proto_make(**fields) == proto, f"oracle: proto_make({fields}) != {proto:#x}")
    for proto in range(256):  # every proto byte passes through unchanged
        h = hdr(proto=proto, message_id=1, channel_number=1)
        enc = c.call("encode_header", header=h)
        same("encode_header proto byte", testee_result(enc), ("ok", O.encode_header(h).hex()), h)
        same("decode_header proto", testee_result(c.call("decode_header", bytes=enc["ok"])), ("ok", h), enc["ok"])


@case("WIRE-2.4.1", "codec", title="the Annex A example frames encode and decode exactly")
def annex_a(ctx):
    c = ctx.codec
    require(ctx, "encode_frame", header=hdr(), text_headers="", body="")
    for name, (fields, th, body, want) in ANNEX_A.items():
        h = annex_header(fields)
        got = c.call("encode_frame", header=h, text_headers=th.hex(), body=body.hex())
        same(f"encode_frame({name})", testee_result(got), ("ok", want), name)
        got = c.call("parse_frame", bytes=want)
        same(f"parse_frame({name})", testee_result(got),
             ("ok", frame_json(annex_header(fields, th, body), th, body, len(want) // 2)), name)


# ---------------------------------------------------------------- WIRE-3.3, WIRE-11.3


@case("WIRE-3.3.2", "codec", title="incomplete means only that the input ends before the item")
def incomplete_only_when_short(ctx):
    c = ctx.codec
    require(ctx, "parse_frame", bytes="")

    @ctx.given(frames_parts)
    def every_prefix(parts):
        h, th, body = parts
        full = O.encode_frame(h, th, body)
        for n in sorted({0, 1, 15, 16, 17, len(full) - 1, len(full)}):
            if 0 <= n <= len(full):
                got = testee_result(c.call("parse_frame", bytes=full[:n].hex()))
                expect((got == ("error", "incomplete")) == (n < len(full)),
                       f"parse_frame of {n} of {len(full)} bytes gave {got}")
        for n in (0, 8, 15):
            same("decode_header", testee_result(c.call("decode_header", bytes=full[:n].hex())),
                 ("error", "incomplete"), full[:n].hex())


@case("WIRE-11.3.2", "codec", title="a parser's final result does not change when more bytes follow")
def prefix_stability(ctx):
    c = ctx.codec
    require(ctx, "parse_frame", bytes="")

    @ctx.given(st.binary(max_size=40), st.binary(min_size=1, max_size=20))
    def extend(b, more):
        r1 = testee_result(c.call("parse_frame", bytes=b.hex()))
        if r1 != ("error", "incomplete"):
            r2 = testee_result(c.call("parse_frame", bytes=(b + more).hex()))
            same("parse_frame after appending bytes", r2, r1, (b + more).hex())


stream_frames = st.lists(st.tuples(plausible_headers, st.binary(max_size=40), st.binary(max_size=40)),
                         max_size=5)


@case("WIRE-11.3.4", "codec", title="the stream decoder gives the same frames and errors for any split")
def stream_any_split(ctx):
    c = ctx.codec
    require(ctx, "stream_decode", chunks=[], validate=False, max_text_headers_len=65535, max_body_len=65535)

    @ctx.given(stream_frames, st.lists(st.integers(0, 10_000), max_size=12), st.booleans(),
               st.sampled_from([65535, 65535, 40, 8, 1]), st.sampled_from([65535, 65535, 40, 8, 1]),
               st.integers(0, 64))
    def any_split(fr, cuts, validate, mt, mb, drop):
        data = b"".join(O.encode_frame(h, th, b) for h, th, b in fr)
        data = data[:len(data) - drop] if drop and len(data) > drop else data
        stream_check(c, split_at(data, cuts), validate, mt, mb)

    @ctx.given(st.lists(st.binary(max_size=40), max_size=5), st.booleans())
    def garbage(chunks, validate):
        stream_check(c, chunks, validate)


@case("WIRE-7.2.1", "codec", title="a receiver refuses <thl>/<bl> above its limits, before reading that part")
def receive_limits(ctx):
    c = ctx.codec
    require(ctx, "stream_decode", chunks=[], validate=False, max_text_headers_len=65535, max_body_len=65535)
    ok = O.encode_frame(hdr(channel_number=1, proto=0, message_id=1), b"a:b\r\n", b"xy")
    for thl, bl, mt, mb, cls in ((10, 0, 9, 100, "headers_too_long"), (0, 10, 100, 9, "body_too_long"),
                                 (10, 10, 9, 9, "headers_too_long"), (9, 9, 9, 9, None)):
        h = hdr(channel_number=1, proto=0, message_id=2, text_headers_len=thl, body_len=bl)
        # only the 16 header bytes arrive: the refusal must not wait for the parts
        got = c.call("stream_decode", chunks=[ok.hex(), O.encode_header(h).hex()], validate=True,
                     max_text_headers_len=mt, max_body_len=mb)
        want = stream_want([ok, O.encode_header(h)], True, mt, mb)
        expect(want["error"] == cls, "oracle disagrees with the case")
        same("stream_decode", testee_result(got), ("ok", want), (thl, bl, mt, mb))
