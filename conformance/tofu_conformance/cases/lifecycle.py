"""Connection lifecycle against the peer testee (WIRE-2.3, 8.x): the runner
is the raw-socket server for a connecting testee, or the raw-socket client
of a listening one, over TCP and UDS."""
import time

from .. import wire as W
from ..peer import close_reason, is_final_signal, session
from ..registry import case
from .common import expect
from .hostile import assert_serving, final_signal, probe, uid

CT = b"~connect_to:"


def client(sess, opts=()):
    """A connecting testee and the runner's raw end of its connection:
    (testee, raw, the testee's channel, the HelloRequest frame)."""
    lsock, addr = sess.raw_listener()
    t = sess.connect_testee(addr, opts)
    posted = t.wait(lambda e: e["event"] == "posted", "the HelloRequest's posted event")
    raw = sess.accept(lsock)
    hello = raw.read_frame()
    return t, raw, posted["channel"], hello


def both_transports(fn):
    def run(ctx):
        for transport in ("tcp", "uds"):
            with session(ctx, transport) as sess:
                fn(ctx, sess)
    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def frames_written(raw, n, timeout=5):
    return [raw.read_frame(timeout) for _ in range(n)]


# ---------------------------------------------------------------- hello


@case("WIRE-8.2.1", "wire", needs="peer", title="the HelloRequest is the first frame; frames posted before connect follow in post order")
@both_transports
def hello_first(ctx, sess):
    lsock, addr = sess.raw_listener()
    t = sess.connect_testee(addr)
    ch = t.wait(lambda e: e["event"] == "posted", "posted HelloRequest")["channel"]
    ids = [uid() for _ in range(3)]
    t.post(W.OP_REQUEST, ch, ids[0], body=b"1")
    t.post(W.OP_SIGNAL, ch, ids[1], body=b"2", internal_a=1)  # oob must not jump the Hello
    t.post(W.OP_REQUEST, ch, ids[2], body=b"3")
    raw = sess.accept(lsock)
    fr = frames_written(raw, 4)
    h0 = fr[0][0]
    expect(h0["proto"] & 0x3F == W.OP_HELLO_REQUEST, f"first frame {h0} is not the HelloRequest")
    later = [h["message_id"] for h, _, _ in fr[1:]]
    expect(sorted(later) == sorted(ids) and later[0] in (ids[0], ids[1]),
           f"frames after the Hello: {later}, posted {ids}")
    expect(later.index(ids[0]) < later.index(ids[2]), f"post order of ordinary frames broken: {later}")


@case("WIRE-8.2.2", "wire", needs="peer", title="the HelloRequest frame carries the whole posted block, ~connect_to included, and the body")
@both_transports
def hello_block(ctx, sess):
    t, raw, ch, (h, th, body) = client(sess)
    expect(th.startswith(CT) and th.endswith(b"\r\n") and t.address.encode() in th,
           f"HelloRequest text headers {th!r} do not carry ~connect_to:{t.address}")
    expect(h["channel_number"] == ch and h["status"] == 0 and h["message_id"] != 0,
           f"HelloRequest header {h} (channel must be the testee's {ch})")


@case("WIRE-8.2.3", "wire", needs="peer", title="no handshake: queued frames are written without waiting for a HelloResponse")
@both_transports
def no_handshake_wait(ctx, sess):
    t, raw, ch, hello = client(sess)
    mid = uid()
    t.post(W.OP_REQUEST, ch, mid, body=b"before any HelloResponse")
    h, _, _ = raw.read_frame()
    expect(h["message_id"] == mid, f"frame {h}")
    raw.send_frame(opcode=W.OP_HELLO_RESPONSE, message_id=hello[0]["message_id"])
    ev = t.wait_recv("the HelloResponse", opcode=W.OP_HELLO_RESPONSE)
    expect(ev["channel"] == ch and ev["origin"] == 0, f"HelloResponse delivered as {ev}")
    expect(raw.nothing_within(0.3), "the testee reacted to the HelloResponse")


@case("WIRE-8.2.5", "wire", needs="peer", title="failed connects come back with the status of their cause")
def connect_failures(ctx):
    with session(ctx, "tcp") as sess:
        port = sess.raw_listener()[0].getsockname()[1]
        sess.listeners[-1].close()  # nothing listens there now
        cases = [(f"tcp|127.0.0.1|{port}", {W.STATUS_CONNECT_FAILED, W.STATUS_COMMUNICATION_FAILED}),
                 (f"uds|{sess.tmp}/missing.sock", {W.STATUS_UDS_PATH_NOT_FOUND}),
                 ("tcp|127.0.0.1|1|x", {W.STATUS_INVALID_ADDRESS}), ("xyz|127.0.0.1|1", {W.STATUS_INVALID_ADDRESS}),
                 ("tcp|no.such.host.invalid|1", {W.STATUS_INVALID_ADDRESS})]
        for addr, statuses in cases:
            t = sess.connect_testee(addr)
            ch = t.wait(lambda e: e["event"] in ("posted", "post_failed"), "the Hello post")
            if ch["event"] == "post_failed":
                expect(ch["status"] in statuses, f"connect {addr}: post failed with {ch['status']}")
                continue
            ev = t.wait_recv("the failed Hello", origin=1)
            expect(ev["status"] in statuses and ev["opcode"] in (W.OP_HELLO_REQUEST, W.OP_HELLO_RESPONSE),
                   f"connect {addr}: delivered {ev['opcode']}/{W.STATUS_NAMES.get(ev['status'])}, "
                   f"required Hello with one of {[W.STATUS_NAMES[s] for s in statuses]}")
            fin = final_signal(t, ch["channel"])
            expect(close_reason(fin) == W.STATUS_NAMES[ev["status"]], f"final Signal reason {close_reason(fin)!r}")


# ---------------------------------------------------------------- sender rules


@case("WIRE-2.3.2", "wire", needs="peer", title="a sender sends origin = 0")
@both_transports
def sender_origin(ctx, sess):
    t, raw, ch, hello = client(sess)
    t.post(W.OP_SIGNAL, ch, uid())
    t.post(W.OP_REQUEST, ch, uid(), more=1)
    for h, _, _ in [hello] + frames_written(raw, 2):
        expect(h["proto"] & 0x10 == 0, f"frame with origin = 1: {h}")


@case("WIRE-2.3.3", "wire", needs="peer", title="a sender sends status = 0")
@both_transports
def sender_status(ctx, sess):
    t, raw, ch, hello = client(sess)
    t.post(W.OP_SIGNAL, ch, uid())
    for h, _, _ in [hello] + frames_written(raw, 1):
        expect(h["status"] == 0, f"frame with status {h['status']}")


@case("WIRE-2.3.4", "wire", needs="peer", title="more = 1 only on Request, Response and Signal")
def sender_more(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = client(sess)
        for op in (W.OP_HELLO_RESPONSE, W.OP_BYE_REQUEST, W.OP_BYE_RESPONSE, W.OP_BYE_SIGNAL):
            t.post(op, ch, uid(), more=1)
            ev = t.wait(lambda e: e["event"] in ("posted", "post_failed"), "post result")
            expect(ev["event"] == "post_failed" and ev["status"] == W.STATUS_INVALID_MORE_USAGE,
                   f"posting opcode {op} with more = 1: {ev}")
        for op in (W.OP_REQUEST, W.OP_RESPONSE, W.OP_SIGNAL):
            t.post(op, ch, uid(), more=1)
        fr = frames_written(raw, 3)
        expect([h["proto"] for h, _, _ in fr] == [0x20, 0x21, 0x22], f"more frames {[h['proto'] for h, _, _ in fr]}")


@case("WIRE-2.3.5", "wire", needs="peer", title="a ByeSignal with internal_a = 1 is never sent")
@both_transports
def sender_no_abort_frame(ctx, sess):
    t, raw, ch, hello = client(sess)
    t.cmd(cmd="close", channel=ch)
    how, frames = raw.read_until_closed()
    expect(not frames, f"a local abort wrote {frames}")
    expect(how == "fin", f"a local abort must close gracefully; the runner saw {how}")


@case("WIRE-2.3.6", "wire", needs="peer", title="no response-role frame with message_id 0 is sent")
def sender_response_id(ctx):
    with session(ctx, "uds") as sess:
        t, raw, ch, hello = client(sess)
        for op in (W.OP_RESPONSE, W.OP_HELLO_RESPONSE, W.OP_BYE_RESPONSE):
            t.post(op, ch, 0)
            ev = t.wait(lambda e: e["event"] in ("posted", "post_failed"), "post result")
            expect(ev["event"] == "post_failed" and ev["status"] == W.STATUS_INVALID_MESSAGE_ID,
                   f"posting opcode {op} with id 0: {ev}")
        expect(raw.nothing_within(0.3), "a refused post reached the wire")


@case("WIRE-2.3.7", "wire", needs="peer", title="<thl> and <bl> equal the bytes that follow")
@both_transports
def sender_lengths(ctx, sess):
    t, raw, ch, hello = client(sess)
    sizes = [(0, 0), (1, 0), (0, 1), (300, 65535), (65535 - 4, 7)]
    for nh, nb in sizes:
        t.post(W.OP_SIGNAL, ch, uid(), headers=[(b"h", b"v" * nh)] if nh else [], body=b"b" * nb)
    for (nh, nb), (h, th, body) in zip(sizes, frames_written(raw, len(sizes))):
        expect(len(body) == nb and (nh == 0 and th == b"" or len(th) == nh + 4),
               f"frame lengths {h['text_headers_len']}/{h['body_len']} for {nh}/{nb}")
    expect(raw.buf == b"", f"{len(raw.buf)} stray bytes after the frames")


@case("WIRE-2.3.8", "wire", needs="peer", title="channel_number is the sender's own channel, the same on every frame")
@both_transports
def sender_channel(ctx, sess):
    t, raw, ch, hello = client(sess)
    for _ in range(5):
        t.post(W.OP_SIGNAL, ch, uid())
    chans = {h["channel_number"] for h, _, _ in [hello] + frames_written(raw, 5)}
    expect(chans == {ch} and 0 < ch < 65535, f"channel numbers on the wire {chans}, the testee's channel {ch}")


@case("WIRE-2.2.3", "wire", needs="peer", title="bits 6 and 7 are transmitted as the application set them")
def sender_bits(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = client(sess)
        t.post(W.OP_SIGNAL, ch, uid(), internal_b=1)
        t.post(W.OP_REQUEST, ch, uid(), internal_a=1, internal_b=1)
        fr = frames_written(raw, 2)
        expect(sorted(h["proto"] for h, _, _ in fr) == [0x82, 0xC0], f"protos {[h['proto'] for h, _, _ in fr]}")


# ---------------------------------------------------------------- traffic


@case("WIRE-8.3.1", "wire", needs="peer", title="frames of one channel are written in post order; nothing is lost when the reader is slow")
@both_transports
def post_order(ctx, sess):
    t, raw, ch, hello = client(sess)
    n = ctx.examples(300, 3000)
    t.cmd(cmd="post", opcode=W.OP_SIGNAL, channel=ch, message_id=10_000, body=("ab" * 1000), repeat=n)
    time.sleep(0.5)  # the runner is not reading: kernel buffers fill up
    ids = [raw.read_frame(10)[0]["message_id"] for _ in range(n)]
    expect(ids == list(range(10_000, 10_000 + n)), f"frames out of order or lost: first differences "
           f"{[(i, x) for i, x in enumerate(ids) if x != 10_000 + i][:5]}")
    fails = [e for e in t.events if e["event"] == "post_failed"]
    expect(not fails, f"posts failed: {fails[:3]}")


@case("WIRE-8.3.3", "wire", needs="peer", title="frames of one connection are delivered in arrival order")
@both_transports
def deliver_order(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    ids = [uid() for _ in range(200)]
    raw.send(b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=i, body=b"x" * (i % 50)) for i in ids))
    ch = t.wait_recv("the last frame", message_id=ids[-1])["channel"]
    got = [e["message_id"] for e in t.recvs(origin=0, channel=ch)]
    expect(got == ids, "delivery order differs from arrival order")


@case("WIRE-8.3.4", "wire", needs="peer", title="more is not interpreted: each frame is delivered alone with more as received")
def more_uninterpreted(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        mid = uid()
        raw.send_frame(opcode=W.OP_SIGNAL, proto=0x22, message_id=mid, body=b"part1")
        ev = t.wait_recv("the first part", message_id=mid, body=b"part1".hex())
        expect(ev["more"] == 1, f"more delivered as {ev['more']}")
        raw.send(raw.frame(proto=0x22, message_id=mid, body=b"part2") + raw.frame(proto=0x02, message_id=mid, body=b"end"))
        t.wait_recv("the second part", message_id=mid, body=b"part2".hex(), more=1)
        t.wait_recv("the last part", message_id=mid, body=b"end".hex(), more=0)


# ---------------------------------------------------------------- bye


@case("WIRE-8.4.1", "wire", needs="peer", title="after writing a bye frame nothing more is written; reading goes on")
@both_transports
def bye_stops_sending(ctx, sess):
    t, raw, ch, hello = client(sess)
    bye_id, after = uid(), uid()
    t.cmd(cmd="bye", channel=ch, message_id=bye_id)
    t.post(W.OP_SIGNAL, ch, after)
    h, _, _ = raw.read_frame()
    expect(h["proto"] & 15 == W.OP_BYE_REQUEST and h["message_id"] == bye_id, f"frame {h}")
    expect(raw.nothing_within(0.5), "a frame was written after the ByeRequest")
    mid = uid()
    raw.send_frame(opcode=W.OP_SIGNAL, message_id=mid)
    t.wait_recv("a frame received after the own ByeRequest", message_id=mid)


@case("WIRE-8.4.2", "wire", needs="peer", title="messages behind a bye frame are not sent but returned at close")
def bye_returns_unsent(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = client(sess)
        bye_id, after = uid(), uid()
        t.cmd(cmd="bye", channel=ch, message_id=bye_id)
        t.post(W.OP_SIGNAL, ch, after, body=b"late")
        # the message must be accepted (queued behind the bye) before the
        # channel can close
        t.wait(lambda e: e["event"] == "posted" and e["message_id"] == after, "the late message accepted")
        raw.read_frame()
        raw.send_frame(opcode=W.OP_BYE_RESPONSE, message_id=bye_id)
        ret = t.wait_recv("the unsent message returned", message_id=after)
        expect(ret["origin"] == 1 and ret["status"] == W.STATUS_CHANNEL_CLOSED and ret["body"] == b"late".hex(),
               f"returned message {ret}")
        final_signal(t, ch)


@case("WIRE-8.4.3", "wire", needs="peer", title="a received ByeRequest is delivered and not answered by the engine")
@both_transports
def bye_request_delivered(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    mid = uid()
    raw.send_frame(opcode=W.OP_BYE_REQUEST, message_id=mid)
    ev = t.wait_recv("the ByeRequest", message_id=mid)
    expect(ev["opcode"] == W.OP_BYE_REQUEST and ev["origin"] == 0, f"delivered {ev}")
    expect(raw.nothing_within(0.5), "the engine answered a ByeRequest by itself")
    t.post(W.OP_BYE_RESPONSE, ev["channel"], mid)
    h, _, _ = raw.read_frame()
    expect(h["proto"] == W.OP_BYE_RESPONSE and h["message_id"] == mid, f"ByeResponse {h}")


@case("WIRE-8.4.5", "wire", needs="peer", title="a received ByeResponse, even unsolicited, is delivered and closes the channel")
@both_transports
def bye_response_closes(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    ch = probe(t, raw)
    mid, later = uid(), uid()
    raw.send(raw.frame(opcode=W.OP_BYE_RESPONSE, message_id=mid) + raw.frame(opcode=W.OP_SIGNAL, message_id=later))
    t.wait_recv("the ByeResponse", message_id=mid, opcode=W.OP_BYE_RESPONSE)
    fin = final_signal(t, ch)
    expect(close_reason(fin) == "channel_closed", f"~close_reason {close_reason(fin)!r}")
    expect(not t.recvs(message_id=later), "a frame after the ByeResponse was delivered")
    how, _ = raw.read_until_closed()
    expect(how == "fin", f"close after ByeResponse: {how}")


@case("WIRE-8.4.6", "wire", needs="peer", title="in SEND_DONE a received ByeRequest is delivered and closes (no deadlock)")
def simultaneous_bye(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = client(sess)
        t.cmd(cmd="bye", channel=ch, message_id=uid())
        raw.read_frame()
        mid = uid()
        raw.send_frame(opcode=W.OP_BYE_REQUEST, message_id=mid)
        t.wait_recv("the peer's ByeRequest", message_id=mid)
        fin = final_signal(t, ch)
        expect(close_reason(fin) == "channel_closed", f"~close_reason {close_reason(fin)!r}")


@case("WIRE-8.4.7", "wire", needs="peer", title="in SEND_DONE end of stream closes with channel_closed")
@both_transports
def send_done_eof(ctx, sess):
    for bye in ("bye", "byesignal"):
        t, raw, ch, hello = client(sess)
        t.cmd(cmd=bye, channel=ch, message_id=uid())
        raw.read_frame()
        raw.shutdown_write()
        fin = final_signal(t, ch)
        expect(close_reason(fin) == "channel_closed",
               f"end of stream after the testee's {bye}: ~close_reason {close_reason(fin)!r}, required channel_closed")


@case("WIRE-8.4.9", "wire", needs="peer", title="the initiator closes after receiving the ByeResponse")
@both_transports
def initiator_closes(ctx, sess):
    t, raw, ch, hello = client(sess)
    bye_id = uid()
    t.cmd(cmd="bye", channel=ch, message_id=bye_id)
    h, _, _ = raw.read_frame()
    raw.send_frame(opcode=W.OP_BYE_RESPONSE, message_id=bye_id)
    how, frames = raw.read_until_closed()
    expect(how == "fin" and not frames, f"after the ByeResponse the initiator must close (FIN); saw {how}, {len(frames)} frames")


@case("WIRE-8.5.3", "wire", needs="peer", title="a ByeSignal with internal_a = 0 is written as frame 0x07, then SEND_DONE")
@both_transports
def byesignal_frame(ctx, sess):
    t, raw, ch, hello = client(sess)
    mid = uid()
    t.cmd(cmd="byesignal", channel=ch, message_id=mid)
    t.post(W.OP_SIGNAL, ch, uid())
    h, _, _ = raw.read_frame()
    expect(h["proto"] == 0x07 and h["message_id"] == mid, f"ByeSignal frame {h}")
    expect(raw.nothing_within(0.4), "a frame followed the ByeSignal")


@case("WIRE-8.5.4", "wire", needs="peer", title="a received ByeSignal is delivered and nothing else happens")
def byesignal_received(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        mid = uid()
        raw.send_frame(opcode=W.OP_BYE_SIGNAL, message_id=mid)
        t.wait_recv("the ByeSignal", message_id=mid, opcode=W.OP_BYE_SIGNAL, origin=0)
        expect(raw.nothing_within(0.4), "the testee acted on a received ByeSignal")
        assert_serving(sess, t)


# ---------------------------------------------------------------- close


@case("WIRE-8.6.1", "wire", needs="peer", title="connections are never closed with RST")
@both_transports
def close_no_rst(ctx, sess):
    t, raw, ch, hello = client(sess)
    t.post(W.OP_SIGNAL, ch, uid(), body=b"x" * 1000)
    raw.send(b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=uid()) for _ in range(20)))
    t.cmd(cmd="close", channel=ch)
    how, frames = raw.read_until_closed()
    expect(how == "fin", f"local abort closed with {how}")


@case("WIRE-8.6.6", "wire", needs="peer", title="every complete frame before a peer's end of stream is delivered first")
@both_transports
def deliver_before_eof(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    ids = [uid() for _ in range(50)]
    raw.send(b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=i, body=b"z" * 100) for i in ids))
    raw.shutdown_write()
    ch = t.wait_recv("the first frame", message_id=ids[0])["channel"]
    fin = final_signal(t, ch)
    got = [e["message_id"] for e in t.recvs(channel=ch, origin=0)]
    expect(got == ids, f"{len(got)} of {len(ids)} frames delivered before the close")
    expect(t.events.index(fin) > max(t.events.index(e) for e in t.recvs(channel=ch, origin=0)),
           "the final Signal came before data")


@case("WIRE-8.7.3", "wire", needs="peer", title="the final Signal: opcode 2, origin 1, status 22, local channel, ~close_reason")
@both_transports
def final_signal_fields(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    ch = probe(t, raw)
    raw.shutdown_write()
    fin = final_signal(t, ch)
    expect(fin["more"] == 0 and fin["internal_a"] == 0 and fin["internal_b"] == 0 and fin["body"] == ""
           and [bytes.fromhex(n) for n, _ in fin["headers"]] == [b"~close_reason"],
           f"final Signal {fin}")


@case("WIRE-8.7.6", "wire", needs="peer", title="end of stream at a frame boundary: final Signal with ~close_reason:recv_failed")
@both_transports
def eof_reason(ctx, sess):
    t = sess.listen(echo=False)
    raw = sess.connect_raw(t)
    ch = probe(t, raw)
    raw.shutdown_write()
    fin = final_signal(t, ch)
    expect(close_reason(fin) == "recv_failed", f"~close_reason {close_reason(fin)!r}")


@case("WIRE-8.7.7", "wire", needs="peer", title="end of stream inside a frame: partial frame discarded, recv_failed")
def eof_inside(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        mid = uid()
        raw.send(raw.frame(opcode=W.OP_SIGNAL, message_id=mid, body=b"0123456789")[:-3])
        raw.shutdown_write()
        fin = final_signal(t, ch)
        expect(close_reason(fin) == "recv_failed" and not t.recvs(message_id=mid), f"final {fin}")


@case("WIRE-8.7.8", "wire", needs="peer", title="a reset closes with ~close_reason:communication_failed")
def rst_reason(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        raw.reset()
        fin = final_signal(t, ch)
        expect(close_reason(fin) == "communication_failed", f"~close_reason {close_reason(fin)!r}")


@case("WIRE-8.7.13", "wire", needs="peer", title="a local abort delivers the ByeSignal back, then the final Signal")
@both_transports
def abort_deliveries(ctx, sess):
    t, raw, ch, hello = client(sess)
    t.cmd(cmd="close", channel=ch)
    bs = t.wait_recv("the ByeSignal back", opcode=W.OP_BYE_SIGNAL, channel=ch)
    expect(bs["origin"] == 1 and bs["status"] == W.STATUS_CHANNEL_CLOSED, f"ByeSignal back {bs}")
    fin = final_signal(t, ch)
    expect(close_reason(fin) == "channel_closed" and t.events.index(bs) < t.events.index(fin), f"final {fin}")


# ---------------------------------------------------------------- backpressure


@case("WIRE-8.8.1", "wire", needs="peer", title="no received data is dropped for lack of pool messages")
@both_transports
def backpressure(ctx, sess):
    t = sess.listen(echo=False, opts=["--pool-max", "4"])
    raw = sess.connect_raw(t)
    ch = probe(t, raw)
    t.cmd(cmd="hold", on=True)
    t.wait(lambda e: e["event"] == "held", "hold acknowledged")
    n = ctx.examples(400, 3000)
    ids = list(range(50_000, 50_000 + n))
    data = b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=i, body=b"q" * 200) for i in ids)
    import threading
    th = threading.Thread(target=lambda: raw.send(data), daemon=True)
    th.start()
    time.sleep(1.0)
    t.cmd(cmd="hold", on=False)
    th.join(20)
    t.wait_recv("the last frame", timeout=20, message_id=ids[-1])
    got = [e["message_id"] for e in t.recvs(channel=ch, origin=0)][1:]
    expect(got == ids, f"{len(got)} of {n} frames delivered in order")


@case("WIRE-8.8.2", "wire", needs="peer", title="reading resumes by itself when messages are available again")
def backpressure_resume(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=True, opts=["--pool-max", "2"])
        raw = sess.connect_raw(t)
        ids = [uid() for _ in range(100)]
        raw.send(b"".join(raw.frame(opcode=W.OP_REQUEST, message_id=i) for i in ids))
        got = [raw.read_frame(10)[0]["message_id"] for _ in ids]
        expect(got == ids, "echoes lost or reordered under a 2-message pool")


@case("WIRE-8.8.3", "wire", needs="peer", title="a reading pause for lack of pool messages delivers a pool_empty Signal")
def pool_empty_signal(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False, opts=["--pool-max", "4"])
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        t.cmd(cmd="hold", on=True)
        t.wait(lambda e: e["event"] == "held", "hold acknowledged")
        ids = list(range(60_000, 60_100))
        raw.send(b"".join(raw.frame(opcode=W.OP_SIGNAL, message_id=i, body=b"p" * 100) for i in ids))
        time.sleep(0.5)
        t.cmd(cmd="hold", on=False)
        t.wait_recv("the last frame", message_id=ids[-1], timeout=10)
        pe = [e for e in t.recvs(channel=ch) if e["status"] == W.STATUS_POOL_EMPTY]
        expect(pe, "no pool_empty Signal although reading had to pause (pool of 4, 100 frames held)")
        for e in pe:
            expect(e["opcode"] == W.OP_SIGNAL and e["origin"] == 1 and e["message_id"] == 0 and e["text_headers"] == ""
                   and e["body"] == "", f"pool_empty Signal {e}")
        got = [e["message_id"] for e in t.recvs(channel=ch, origin=0)][1:]
        expect(got == ids, "frames lost or reordered around the pause")
