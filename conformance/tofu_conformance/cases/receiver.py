"""The conforming receiver (WIRE-7.1): each check through the codec testee
(check_received) and, when the implementation has a peer testee, on a live
connection (the refused frame is not delivered, the channel closes with the
check's close reason, and the testee keeps serving other connections)."""
from hypothesis import strategies as st

from .. import oracle as O
from ..registry import case
from .common import expect, hdr, headers, require, same, testee_result
from . import hostile


def codec_check(ctx, cls, examples):
    c = ctx.codec
    require(ctx, "check_received", header=hdr(message_id=1))
    for fields in examples:
        h = hdr(**fields)
        expect(O.check_received(h) == cls, f"oracle disagrees with the case about {h}")
        same("check_received", testee_result(c.call("check_received", header=h)), ("error", cls), h)


def both(ctx, codec_part, peer_part):
    """Runs the codec part and the peer part; skips only if neither can run."""
    from ..testee import Skip
    ran, skipped = 0, []
    for name, part in (("codec", codec_part), ("peer", peer_part)):
        if part is None:
            continue
        try:
            part()
            ran += 1
        except Skip as e:
            skipped.append(f"{name} part: {e}")
    if not ran:
        raise Skip("; ".join(skipped))
    for s in skipped:
        ctx.partial(s)


RECEIVER = {  # ID -> (class, close status, examples for the codec, a frame for the peer)
    "WIRE-7.1.1": ("bad_opcode", 6, [dict(proto=op | f, message_id=m, status=s) for op in range(8, 16)
                                     for f in (0, 0x10, 0x20) for m in (0, 1) for s in (0, 5)],
                   [dict(proto=op, message_id=1) for op in (8, 9, 10, 15)]),
    "WIRE-7.1.2": ("forged_origin", 5, [dict(proto=op | 0x10 | f, message_id=m, status=s) for op in range(8)
                                        for f in (0, 0x20, 0xC0) for m in (0, 1) for s in (0, 22)],
                   [dict(proto=0x12, message_id=1), dict(proto=0x12, status=22, message_id=1)]),
    "WIRE-7.1.3": ("nonzero_status", 5, [dict(proto=op | f, message_id=m, status=s) for op in range(8)
                                         for f in (0, 0x20) for m in (0, 1) for s in (1, 19, 22, 255)],
                   [dict(proto=0x02, status=19, message_id=0), dict(proto=0x00, status=22, message_id=1)]),
    "WIRE-7.1.4": ("more_not_allowed", 9, [dict(proto=op | 0x20 | f, message_id=m) for op in range(3, 8)
                                           for f in (0, 0x40, 0x80) for m in (0, 1)],
                   [dict(proto=0x23, message_id=1), dict(proto=0x25, message_id=1), dict(proto=0x27, message_id=1)]),
    "WIRE-7.1.5": ("zero_response_id", 12, [dict(proto=op | f) for op in (1, 4, 6) for f in (0, 0x40, 0x80, 0xC0)]
                   + [dict(proto=0x21)], [dict(proto=0x01), dict(proto=0x04), dict(proto=0x06)]),
}

TITLES = {
    "WIRE-7.1.1": "a receiver refuses opcodes 8-15 (bad_opcode, invalid_op_code)",
    "WIRE-7.1.2": "a receiver refuses origin = 1 (forged_origin, invalid_message)",
    "WIRE-7.1.3": "a receiver refuses a non-zero status (nonzero_status, invalid_message)",
    "WIRE-7.1.4": "a receiver refuses more = 1 on hello/bye opcodes (more_not_allowed)",
    "WIRE-7.1.5": "a receiver refuses response-role frames with message_id 0 (zero_response_id)",
}


def make_receiver_case(cid):
    cls, status, examples, peer_frames = RECEIVER[cid]

    def run(ctx):
        both(ctx, lambda: codec_check(ctx, cls, examples),
             lambda: hostile.refused_frames(ctx, [hdr(channel_number=7, **f) for f in peer_frames], status))
    run.__name__ = "receiver_" + cid.replace(".", "_").replace("-", "_")
    case(cid, "hostile", needs="codec+peer", title=TITLES[cid])(run)


for _cid in RECEIVER:
    make_receiver_case(_cid)


@case("WIRE-7.1.6", "hostile", needs="codec+peer", title="the checks run in order on every header, as soon as its 16 bytes arrive")
def receiver_order(ctx):
    def codec_part():
        c = ctx.codec
        require(ctx, "check_received", header=hdr(message_id=1))
        for proto in range(256):
            for status in (0, 1):
                for mid in (0, 1):
                    h = hdr(proto=proto, status=status, message_id=mid, channel_number=9)
                    want = O.check_received(h)
                    same("check_received", testee_result(c.call("check_received", header=h)),
                         ("ok", True) if want is None else ("error", want), h)

        @ctx.given(headers)
        def any_header(h):
            want = O.check_received(h)
            same("check_received", testee_result(c.call("check_received", header=h)),
                 ("ok", True) if want is None else ("error", want), h)

    def peer_part():
        # only the header of a bad frame is sent, announcing parts that never
        # come: the refusal must not wait for them
        hostile.refused_frames(ctx, [hdr(channel_number=7, proto=0x1A, status=3, message_id=0,
                                         text_headers_len=500, body_len=500)], 6, header_only=True)
    both(ctx, codec_part, peer_part)


@case("WIRE-7.1.7", "hostile", needs="codec+peer", title="bits 6-7 and the channel number take no part in the checks")
def receiver_ignores_bits(ctx):
    def codec_part():
        c = ctx.codec
        require(ctx, "check_received", header=hdr(message_id=1))

        @ctx.given(headers, st.integers(0, 3), st.integers(0, 65535))
        def invariant(h, bits, cn):
            h2 = dict(h, proto=(h["proto"] & 0x3F) | (bits << 6), channel_number=cn)
            r1 = testee_result(c.call("check_received", header=h))
            r2 = testee_result(c.call("check_received", header=h2))
            same("check_received with other bits 6-7 / channel", r2, r1, (h, h2))

    def peer_part():
        hostile.accepted_frames(ctx, [hdr(channel_number=cn, proto=0x02 | bits, message_id=5)
                                      for cn, bits in ((0, 0x40), (65535, 0x80), (1, 0xC0))])
    both(ctx, codec_part, peer_part)
