"""Hostile input against the peer testee (WIRE-1.1.2, 1.2.4, 7.x, ...): the
runner connects with raw sockets to a listening testee and sends what no
conforming sender sends. Every case checks the required reaction and that
the testee keeps serving other connections afterwards."""
import itertools
import time

from hypothesis import strategies as st

from .. import oracle as O
from .. import wire as W
from ..peer import close_reason, is_final_signal, session
from ..registry import case
from .common import expect

_ids = itertools.count(1000)


def uid():
    return next(_ids)


def probe(t, raw):
    """Sends a harmless Signal; returns the testee's channel for raw's connection."""
    mid = uid()
    raw.send_frame(opcode=W.OP_SIGNAL, message_id=mid, body=b"probe")
    return t.wait_recv("the probe Signal", opcode=W.OP_SIGNAL, origin=0, message_id=mid)["channel"]


def assert_serving(sess, t):
    """A fresh connection still gets its HelloRequest answered (echo mode)."""
    raw = sess.connect_raw(t)
    mid = uid()
    raw.send_frame(opcode=W.OP_HELLO_REQUEST, message_id=mid, text_headers=b"~connect_to:tcp|127.0.0.1|1\r\n")
    h, th, body = raw.read_frame()
    expect(h["proto"] & 15 == W.OP_HELLO_RESPONSE and h["message_id"] == mid,
           f"after the hostile input the testee no longer serves new connections (got {h})")
    raw.close()


def final_signal(t, ch, timeout=5):
    return t.wait(lambda e: is_final_signal(e) and e["channel"] == ch, f"the final Signal of channel {ch}", timeout)


def check_refusal(t, raw, ch, status, delivered_ids):
    """The frame was refused: channel ch ends with reason `status`, the
    connection is closed gracefully without any frame, and on ch nothing but
    delivered_ids and the final Signal was delivered."""
    fin = final_signal(t, ch)
    reason = close_reason(fin)
    want = W.STATUS_NAMES[status]
    expect(reason == want, f"final Signal of the refusing channel: ~close_reason {reason!r}, required {want!r}")
    how, frames = raw.read_until_closed()
    expect(how == "fin", f"the refusing testee must close gracefully (FIN); the runner saw {how}")
    expect(not frames, f"a refusal must not be reported with a frame; the testee sent {len(frames)}")
    t.drain(0.2)
    got = [e["message_id"] for e in t.recvs(channel=ch) if not (e["origin"] == 1)]
    expect(got == delivered_ids, f"channel {ch}: delivered ids {got}, expected exactly {delivered_ids} "
           "(a refused frame, or anything after it, must not be delivered)")
    return fin


def refused_frames(ctx, headers, status, header_only=False):
    """Each header (with 8 bytes of body unless header_only) is refused with
    close reason `status`, on TCP and UDS."""
    for transport in ("tcp", "uds"):
        with session(ctx, transport) as sess:
            t = sess.listen(echo=True)
            for h in headers:
                raw = sess.connect_raw(t)
                ch = probe(t, raw)
                pre = [e["message_id"] for e in t.recvs(channel=ch)]
                if header_only:
                    raw.send(O.encode_header(h))
                else:
                    body = b"bad-body"
                    raw.send(O.encode_frame(h, b"", body))
                check_refusal(t, raw, ch, status, pre)
            assert_serving(sess, t)


def accepted_frames(ctx, headers):
    """Each header (with a 2-byte body) is delivered as received except the
    channel number, which becomes the testee's own; the connection stays open."""
    for transport in ("tcp", "uds"):
        with session(ctx, transport) as sess:
            t = sess.listen(echo=False)
            raw = sess.connect_raw(t)
            ch = probe(t, raw)
            for h in headers:
                raw.send(O.encode_frame(h, b"", b"ok"))
                ev = t.wait_recv("the frame", message_id=h["message_id"], body=b"ok".hex())
                p = h["proto"]
                want = dict(opcode=p & 15, origin=0, status=0, more=(p >> 5) & 1, internal_a=(p >> 6) & 1,
                            internal_b=(p >> 7) & 1, channel=ch)
                got = {k: ev[k] for k in want}
                expect(got == want, f"frame {O.encode_header(h).hex()} delivered as {got}, required {want}")
                t.events.remove(ev)
            expect(raw.nothing_within(0.3), "the testee closed or wrote after acceptable frames")
            assert_serving_nonecho(sess, t)


# ---------------------------------------------------------------- cases


@case("WIRE-1.1.2", "hostile", needs="peer", title="a frame cut short by end of stream is discarded, never delivered in part")
def truncated(ctx):
    for transport in ("tcp", "uds"):
        for cut in (5, 16, 20, 30):
            with session(ctx, transport) as sess:
                t = sess.listen()
                raw = sess.connect_raw(t)
                ch = probe(t, raw)
                pre = [e["message_id"] for e in t.recvs(channel=ch)]
                f = raw.frame(opcode=W.OP_REQUEST, message_id=uid(), text_headers=b"a:b\r\n", body=b"0123456789")
                raw.send(f[:cut])  # 16 + 5 + 10 = 31 bytes announced
                raw.shutdown_write()
                fin = final_signal(t, ch)
                expect(close_reason(fin) == "recv_failed",
                       f"end of stream inside a frame: ~close_reason {close_reason(fin)!r}, required recv_failed")
                got = [e["message_id"] for e in t.recvs(channel=ch) if e["origin"] == 0]
                expect(got == pre, f"a frame cut after {cut} of 31 bytes was delivered ({got})")
                assert_serving(sess, t)


@case("WIRE-1.2.4", "hostile", needs="peer", title="no resynchronisation after a refused frame: later frames are not read")
def no_resync(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen()
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        pre = [e["message_id"] for e in t.recvs(channel=ch)]
        bad = raw.frame(proto=0x0A, message_id=uid())
        good = raw.frame(opcode=W.OP_SIGNAL, message_id=uid(), body=b"after")
        raw.send(bad + good * 3)  # valid frames right behind the bad one, same write
        check_refusal(t, raw, ch, W.STATUS_INVALID_OP_CODE, pre)
        assert_serving(sess, t)


@case("WIRE-7.2.2", "hostile", needs="peer", title="a frame not completed within the frame timeout closes the channel (recv_failed)")
def frame_timeout(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(opts=["--frame-timeout-ms", "1500"])
        # a header sent one byte every 50 ms completes in time and is delivered
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        mid = uid()
        f = raw.frame(opcode=W.OP_SIGNAL, message_id=mid, body=b"slow")
        for i in range(len(f)):
            raw.send(f[i:i + 1])
            time.sleep(0.05)
        t.wait_recv("the slowly sent frame", message_id=mid, channel=ch)
        # a header that stalls after 8 bytes is given up after the timeout
        t0 = time.monotonic()
        raw.send(raw.frame(opcode=W.OP_SIGNAL, message_id=uid())[:8])
        fin = final_signal(t, ch, timeout=10)
        dt = time.monotonic() - t0
        expect(close_reason(fin) == "recv_failed", f"~close_reason {close_reason(fin)!r}, required recv_failed")
        expect(dt >= 1.0, f"the channel closed after {dt:.1f}s, before the 1.5 s frame timeout")
        how, _ = raw.read_until_closed()
        expect(how == "fin", f"timeout close must be graceful; the runner saw {how}")
        assert_serving(sess, t)


@case("WIRE-7.2.5", "hostile", needs="peer", title="no idle timeout: a connection with no frame in progress stays open")
def no_idle_timeout(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(opts=["--frame-timeout-ms", "500"])
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        expect(raw.nothing_within(2.0), "the testee closed or wrote on an idle connection")
        mid = uid()
        raw.send_frame(opcode=W.OP_SIGNAL, message_id=mid)
        t.wait_recv("a frame after 2 s of silence", message_id=mid, channel=ch)


@case("WIRE-7.3.1", "hostile", needs="peer", title="a refused frame, any part of it and every later byte are not delivered")
def garbage_differential(ctx):
    good = [O.encode_frame(O.make_header(channel_number=3, proto=p, message_id=i + 1), th, b)
            for i, (p, th, b) in enumerate([(2, b"", b"x"), (0, b"a:b\r\n", b""), (0x22, b"", b"yz")])]
    chunks = st.lists(st.one_of(st.sampled_from(good), st.binary(min_size=1, max_size=24),
                                st.sampled_from([bytes(16), b"\x00\x01\x0a", b"\x00\x01\x12\x00"])),
                      min_size=1, max_size=4)
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)

        @ctx.given(chunks, ci=12, thorough=60)
        def differential(parts):
            data = b"".join(parts)
            raw = sess.connect_raw(t)
            ch = probe(t, raw)
            raw.send(data)
            frames, err, at_boundary = O.stream_decode([data], True)
            if err:
                fin = final_signal(t, ch)
                want = W.STATUS_NAMES[O.ERRORS_STATUS[err]]
                expect(close_reason(fin) == want, f"garbage {data.hex()}: ~close_reason {close_reason(fin)!r}, required {want!r}")
                how, _ = raw.read_until_closed()
                expect(how == "fin", f"refusal must close gracefully, saw {how}")
            else:
                if frames:
                    t.wait_recv("the last valid frame", channel=ch, message_id=frames[-1][0]["message_id"],
                                body=frames[-1][2].hex())
                raw.close()
                final_signal(t, ch)
            got = [(e["message_id"], e["body"]) for e in t.recvs(channel=ch) if e["origin"] == 0][1:]
            want = [(h["message_id"], b.hex()) for h, _, b in frames]
            expect(got == want, f"garbage {data.hex()}: delivered {got}, the spec allows exactly {want}")
        assert_serving_nonecho(sess, t)


def assert_serving_nonecho(sess, t):
    raw = sess.connect_raw(t)
    probe(t, raw)
    raw.close()


@case("WIRE-7.3.2", "hostile", needs="peer", title="the channel of a refused frame closes gracefully with the check's reason")
def refusal_graceful(ctx):
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x0F, message_id=5)], W.STATUS_INVALID_OP_CODE)


@case("WIRE-7.3.3", "hostile", needs="peer", title="no frame is sent to report a refusal")
def refusal_silent(ctx):
    # check_refusal requires that nothing but FIN follows the refused frame
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x02, status=7, message_id=5)], W.STATUS_INVALID_MESSAGE)


@case("WIRE-7.3.4", "hostile", needs="peer", title="frames delivered before the refused one stay delivered")
def refusal_keeps_earlier(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen()
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        ids = [uid() for _ in range(5)]
        raw.send(b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=i) for i in ids) + raw.frame(proto=0x01, message_id=0))
        pre = [e["message_id"] for e in t.recvs(channel=ch)]
        check_refusal(t, raw, ch, W.STATUS_INVALID_MESSAGE_ID, pre + ids)


@case("WIRE-7.4.1", "hostile", needs="peer", title="any bytes are accepted as the text-header block and delivered unchanged")
def raw_blocks(ctx):
    blocks = [b"a:b\r\n~connect_to:a|b|c|d\r\n", b"x\r\ny:1\r\ninjected:\r\n", b"\x00\xff\r\r\n\n::", b":\r\n",
              b"a" * 3000, b"~listen_on:tcp|0.0.0.0|1\r\n", bytes(range(256))]
    for transport in ("tcp", "uds"):
        with session(ctx, transport) as sess:
            t = sess.listen(echo=False)
            raw = sess.connect_raw(t)
            ch = probe(t, raw)
            for b in blocks:
                mid = uid()
                raw.send_frame(opcode=W.OP_REQUEST, message_id=mid, text_headers=b, body=b"B")
                ev = t.wait_recv("the frame", message_id=mid, channel=ch)
                expect(ev["text_headers"] == b.hex(), f"block {b[:40]!r} delivered as {bytes.fromhex(ev['text_headers'])[:40]!r}")
                want = [[n.hex(), v.hex()] for n, v in O.iterate_headers(b)]
                expect(ev["headers"] == want, f"the testee's iterator read {b[:40]!r} as {ev['headers']}")
            expect(raw.nothing_within(0.3), "the testee reacted to text headers")


@case("WIRE-7.4.2", "hostile", needs="peer", title="frames are accepted in any opcode order (no handshake enforced)")
def any_order(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        seq = [(W.OP_REQUEST, uid()), (W.OP_HELLO_RESPONSE, uid()), (W.OP_HELLO_REQUEST, uid()),
               (W.OP_HELLO_REQUEST, uid()), (W.OP_RESPONSE, uid()), (W.OP_SIGNAL, uid())]
        raw.send(b"".join(raw.frame(opcode=op, message_id=mid) for op, mid in seq))
        for op, mid in seq:
            t.wait_recv("the frame", opcode=op, message_id=mid)
        expect(raw.nothing_within(0.3), "the testee reacted to frame order")


@case("WIRE-7.4.3", "hostile", needs="peer", title="a HelloRequest without text headers and empty parts are accepted")
def empty_parts(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        mid = uid()
        raw.send_frame(opcode=W.OP_HELLO_REQUEST, message_id=mid)
        h, th, body = raw.read_frame()
        expect(h["proto"] == W.OP_HELLO_RESPONSE and h["message_id"] == mid and th == b"" and body == b"",
               f"answer to an empty HelloRequest: {h} {th!r} {body!r}")
        ev = t.wait_recv("the empty HelloRequest", message_id=mid)
        expect(ev["text_headers"] == "" and ev["body"] == "", "empty parts were not delivered as empty")


@case("WIRE-7.4.4", "hostile", needs="peer", title="a received ByeSignal or internal_a bit causes no local abort")
def no_abort_on_receive(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        ids = [uid() for _ in range(3)]
        raw.send(raw.frame(proto=0x47, message_id=ids[0]) + raw.frame(proto=0x07, message_id=ids[1])
                 + raw.frame(proto=0x40, message_id=ids[2]))  # 0x47 is an abort only when posted locally
        for i in ids:
            t.wait_recv("the frame", message_id=i)
        mid = uid()
        raw.send_frame(opcode=W.OP_REQUEST, message_id=mid, body=b"still open?")
        for _ in range(3):  # the echo of the 0x40 Request comes first
            h, _, body = raw.read_frame()
            if h["message_id"] == mid:
                break
        expect(h["proto"] & 15 == W.OP_RESPONSE and h["message_id"] == mid,
               f"after a received ByeSignal the testee must still answer (got {h})")


@case("WIRE-7.4.5", "hostile", needs="peer", title="a close by RST is accepted like one by FIN")
def rst_close(ctx):
    for transport in ("tcp",):
        with session(ctx, transport) as sess:
            t = sess.listen()
            raw = sess.connect_raw(t)
            ch = probe(t, raw)
            raw.reset()
            fin = final_signal(t, ch)
            expect(close_reason(fin) in ("communication_failed", "recv_failed"),
                   f"after a peer RST: ~close_reason {close_reason(fin)!r}")
            assert_serving(sess, t)


@case("WIRE-7.5.1", "hostile", needs="peer", title="after a refusal the final Signal carries ~close_reason:<status name>")
def refusal_reason(ctx):
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x25, message_id=5)], W.STATUS_INVALID_MORE_USAGE)


@case("WIRE-7.5.2", "hostile", needs="peer", title="the final Signal after a refusal keeps status channel_closed (22)")
def refusal_status(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen()
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        raw.send(raw.frame(proto=0x12, message_id=9))
        fin = final_signal(t, ch)
        expect(fin["status"] == W.STATUS_CHANNEL_CLOSED and fin["opcode"] == W.OP_SIGNAL and fin["origin"] == 1,
               f"final Signal {fin}")


@case("WIRE-2.2.2", "hostile", needs="peer", title="bits 6-7 of a received frame are ignored and delivered unchanged")
def bits_passed(ctx):
    accepted_frames(ctx, [O.make_header(channel_number=3, proto=p, message_id=uid())
                          for p in (0x40, 0x80, 0xC0, 0xC2, 0x61, 0xE2, 0x83, 0x45)])


@case("WIRE-6.1.2", "hostile", needs="peer", title="the received channel_number is ignored, 0 and 65535 included")
def channel_ignored(ctx):
    accepted_frames(ctx, [O.make_header(channel_number=cn, proto=2, message_id=uid()) for cn in (0, 65535, 1, 0x1234)])


@case("WIRE-5.1.2", "hostile", needs="peer", title="received text headers are never interpreted, reserved ones included")
def reserved_not_interpreted(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        for b in (b"~connect_to:tcp|127.0.0.1|1\r\n", b"~listen_on:tcp||0\r\n", b"~connect_to:a|b|c|d\r\n",
                  b"~close_reason:recv_failed\r\n~bound_to:uds|/x\r\n"):
            mid = uid()
            raw.send_frame(opcode=W.OP_HELLO_REQUEST, message_id=mid, text_headers=b)
            ev = t.wait_recv("the frame", message_id=mid, channel=ch)
            expect(ev["text_headers"] == b.hex() and ev["origin"] == 0 and ev["status"] == 0,
                   f"{b!r} was not delivered unchanged: {ev}")
        expect(raw.nothing_within(0.3), "the testee acted on received reserved headers")
        expect(not [e for e in t.recvs() if e["origin"] == 1], "the testee produced notifications")


@case("WIRE-5.1.5", "hostile", needs="peer", title="unknown headers, ~version included, cause no refusal or action")
def unknown_headers(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        mid = uid()
        raw.send_frame(opcode=W.OP_HELLO_REQUEST, message_id=mid, text_headers=b"~version:2\r\n~zz:1\r\nX-Y:z\r\n")
        h, th, _ = raw.read_frame()
        expect(h["proto"] == W.OP_HELLO_RESPONSE and h["message_id"] == mid, f"answer {h}")


@case("WIRE-4.3.6", "hostile", needs="peer", title="a receiver does not apply the strict validator")
def no_strict_on_receive(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        for b in (b"a b\r\n", b"a:\r\n\r\n", b"no colon", b":", b"v:\x01\r\n"):
            mid = uid()
            raw.send_frame(opcode=W.OP_REQUEST, message_id=mid, text_headers=b)
            h, th, _ = raw.read_frame()
            expect(h["message_id"] == mid and th == b, f"non-strict block {b!r}: answer {h} {th!r}")
