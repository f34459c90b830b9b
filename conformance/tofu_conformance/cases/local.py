"""Listener, local API and Zig-deviation cases through the peer testee
(WIRE-5.4, 6.3, 8.1, 8.5, 8.6, 8.7, 9.4, 9.5, 10.x). The WIRE-10 cases
restate a behaviour another requirement already fixes; they run that
requirement's check against the Zig defect they name."""
import os
import socket
import time

from .. import oracle as O
from .. import wire as W
from ..peer import PeerTestee, close_reason, is_final_signal, session
from ..registry import CASES, case
from .common import expect
from .hostile import assert_serving, final_signal, probe, refused_frames, uid
from . import codec as C
from . import lifecycle as L


def post_result(t):
    return t.wait(lambda e: e["event"] in ("posted", "post_failed"), "the post's result")


def welcome(t):
    return next(e for e in t.events if e.get("event") == "recv" and e["opcode"] == W.OP_WELCOME_RESPONSE)


def listener_channel(t):
    return welcome(t)["channel"]


def failed_listen(sess, address):
    """A testee whose listen must fail: (WelcomeResponse event, final Signal)."""
    t = PeerTestee(sess.argv, "listen", address, [], sess.ctx.peer_factory.env, sess.ctx.notes, "testee listen (fails)")
    sess.testees.append(t)
    wr = t.wait_recv("the failed WelcomeResponse", opcode=W.OP_WELCOME_RESPONSE)
    fin = t.wait(is_final_signal, "the failed listener's final Signal")
    return wr, fin


def alias(new_id, old_id, title):
    """Registers the check of old_id under new_id (WIRE-10 restatements)."""
    case(new_id, CASES[old_id].group, CASES[old_id].needs, title)(CASES[old_id].func)


# ---------------------------------------------------------------- WIRE-8.1


@case("WIRE-8.1.2", "wire", needs="peer", title="a successful Welcome comes back as WelcomeResponse, origin 0, status 0, ~bound_to appended")
def welcome_success(ctx):
    for transport in ("tcp", "uds"):
        with session(ctx, transport) as sess:
            t = sess.listen(echo=False)
            w = welcome(t)
            names = [bytes.fromhex(n) for n, _ in w["headers"]]
            posted = next(e for e in t.events if e.get("event") == "posted")
            expect(w["origin"] == 0 and w["status"] == 0 and w["channel"] == posted["channel"],
                   f"WelcomeResponse {w}")
            expect(names[:1] == [b"~listen_on"] and b"~bound_to" in names, f"WelcomeResponse headers {names}")


@case("WIRE-8.1.3", "wire", needs="peer", title="~bound_to gives the real port for port 0 and the real path for uds|")
def bound_to(ctx):
    with session(ctx, "tcp") as sess:
        for addr, kind in (("tcp|127.0.0.1|0", "tcp"), ("uds|", "uds"), (f"uds|@tofu-conf-{os.getpid()}-{uid()}", "uds")):
            t = PeerTestee(sess.argv, "listen", addr, ["--echo"], ctx.peer_factory.env, ctx.notes, f"testee listen {addr}")
            sess.testees.append(t)
            r = t.ready()
            expect("bound_to" in r, f"no ~bound_to for {addr}")
            b = O.parse_address(bytes.fromhex(r["bound_to"]))
            expect(b["kind"] == kind, f"~bound_to {b} for {addr}")
            if kind == "tcp":
                expect(b["port"] != 0, "~bound_to kept port 0")
                s = socket.create_connection((b["host"].decode(), b["port"]), timeout=5)
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(("\0" + b["path"].decode()) if b["abstract"] else b["path"].decode())
            mid = uid()
            s.sendall(O.encode_frame(O.make_header(proto=W.OP_HELLO_REQUEST, message_id=mid, channel_number=1), b"", b""))
            back = b""
            while len(back) < 16:
                d = s.recv(64)
                expect(d, "closed")
                back += d
            expect(O.decode_header(back)["message_id"] == mid, f"no answer through ~bound_to {b}")
            s.close()


@case("WIRE-8.1.4", "wire", needs="peer", title="a failed Welcome comes back with origin 1 and invalid_address / listen_failed")
def welcome_failure(ctx):
    with session(ctx, "tcp") as sess:
        busy, busy_addr = sess.raw_listener()
        for addr, status in ((busy_addr, W.STATUS_LISTEN_FAILED), ("tcp|no.such.host.invalid|1", W.STATUS_INVALID_ADDRESS),
                             ("tcp|h|1|x", W.STATUS_INVALID_ADDRESS), (f"uds|{sess.tmp}/no/such/dir/s", W.STATUS_LISTEN_FAILED)):
            wr, fin = failed_listen(sess, addr)
            expect(wr["origin"] == 1 and wr["status"] == status,
                   f"listen {addr}: WelcomeResponse origin {wr['origin']} status {W.STATUS_NAMES.get(wr['status'])}, "
                   f"required origin 1, {W.STATUS_NAMES[status]}")


@case("WIRE-8.1.5", "wire", needs="peer", title="no SO_REUSEPORT: a second listener on a TCP port in use fails (listen_failed)")
def no_reuseport(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen()
        wr, fin = failed_listen(sess, t.endpoint.address)
        expect(wr["status"] == W.STATUS_LISTEN_FAILED, f"second listener: {W.STATUS_NAMES.get(wr['status'])}")
        assert_serving(sess, t)


@case("WIRE-8.1.6", "wire", needs="peer", title="accepting a connection sends nothing and delivers nothing")
def accept_silent(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen()
        n = len(t.drain(0.2))
        raw = sess.connect_raw(t)
        expect(raw.nothing_within(0.5), "the testee wrote on an accepted connection")
        t.drain(0.2)
        expect(len(t.events) == n, f"accept delivered {t.events[n:]}")


@case("WIRE-8.1.8", "wire", needs="peer", title="closing a listener does not close the connections it accepted")
def listener_close_keeps_channels(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=True)
        raw = sess.connect_raw(t)
        probe(t, raw)
        t.cmd(cmd="close", channel=listener_channel(t))
        final_signal(t, listener_channel(t))
        mid = uid()
        raw.send_frame(opcode=W.OP_REQUEST, message_id=mid)
        h, _, _ = raw.read_frame()
        expect(h["message_id"] == mid, "an accepted connection died with its listener")
        refused = False
        try:
            socket.create_connection(("127.0.0.1", t.endpoint.port), timeout=2).close()
        except OSError:
            refused = True
        expect(refused, "the closed listener still accepts connections")


@case("WIRE-8.7.14", "wire", needs="peer", title="aborting a listener delivers the ByeSignal back, then the final Signal")
def listener_abort(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen()
        ch = listener_channel(t)
        t.cmd(cmd="close", channel=ch)
        bs = t.wait_recv("the ByeSignal back", opcode=W.OP_BYE_SIGNAL, channel=ch)
        fin = final_signal(t, ch)
        expect(bs["origin"] == 1 and bs["status"] == W.STATUS_CHANNEL_CLOSED and close_reason(fin) == "channel_closed",
               f"ByeSignal {bs}, final {fin}")


@case("WIRE-8.7.15", "wire", needs="peer", title="a failed Welcome: the WelcomeResponse, then the final Signal naming its status")
def welcome_failure_deliveries(ctx):
    with session(ctx, "tcp") as sess:
        busy, busy_addr = sess.raw_listener()
        wr, fin = failed_listen(sess, busy_addr)
        expect(close_reason(fin) == W.STATUS_NAMES[wr["status"]], f"final Signal {fin} after {wr}")


@case("WIRE-5.4.10", "wire", needs="peer", title="a closed UDS listener removes its path")
def uds_path_removed(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen()
        expect(os.path.exists(t.endpoint.path), "the listener's path does not exist")
        t.cmd(cmd="close", channel=listener_channel(t))
        final_signal(t, listener_channel(t))
        time.sleep(0.1)
        expect(not os.path.exists(t.endpoint.path), "the path of a closed listener was not removed")


@case("WIRE-5.4.7", "wire", needs="peer", title="connecting to an empty UDS path or abstract name fails with invalid_address")
def uds_empty_connect(ctx):
    with session(ctx, "uds") as sess:
        for addr in ("uds|", "uds|@"):
            t = sess.connect_testee(addr)
            r = post_result(t)
            if r["event"] == "post_failed":
                expect(r["status"] == W.STATUS_INVALID_ADDRESS, f"{addr}: post failed with {r['status']}")
                continue
            ev = t.wait_recv("the failed Hello", origin=1)
            expect(ev["status"] == W.STATUS_INVALID_ADDRESS, f"{addr}: {W.STATUS_NAMES.get(ev['status'])}")


# ---------------------------------------------------------------- posts


@case("WIRE-9.4.2", "wire", needs="peer", title="posting a WelcomeResponse fails with invalid_op_code")
def post_welcome_response(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        for chan in (ch, 0):
            t.post(W.OP_WELCOME_RESPONSE, chan, uid())
            r = post_result(t)
            expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_OP_CODE,
                   f"post of a WelcomeResponse: {r}")
        expect(raw.nothing_within(0.3), "something reached the wire")


@case("WIRE-2.3.1", "wire", needs="peer", title="a sender sends only opcodes 0-7")
def sender_opcodes(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        for op in (W.OP_WELCOME_RESPONSE, 10, 15):
            t.post(op, ch, uid())
            r = post_result(t)
            expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_OP_CODE, f"post of opcode {op}: {r}")
        t.post(W.OP_WELCOME_REQUEST, ch, uid(), headers=[(b"~listen_on", b"tcp|127.0.0.1|0")])
        r = post_result(t)
        expect(r["event"] == "post_failed", f"WelcomeRequest on a data channel: {r}")
        expect(raw.nothing_within(0.3), "a refused opcode reached the wire")


@case("WIRE-9.4.3", "wire", needs="peer", title="a post to a listener channel fails with invalid_channel_number; the listener is unaffected")
def post_to_listener(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen()
        ch = listener_channel(t)
        for op in (W.OP_REQUEST, W.OP_SIGNAL, W.OP_BYE_REQUEST):
            t.post(op, ch, uid())
            r = post_result(t)
            expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_CHANNEL_NUMBER,
                   f"post of opcode {op} to the listener: {r}")
        assert_serving(sess, t)


@case("WIRE-9.5.6", "wire", needs="peer", title="a Hello posted with a non-zero channel fails and leaves that channel alone")
def hello_on_channel(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        t.post(W.OP_HELLO_REQUEST, ch, uid(), headers=[(b"~connect_to", t.address.encode())])
        r = post_result(t)
        expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_CHANNEL_NUMBER, f"{r}")
        mid = uid()
        t.post(W.OP_SIGNAL, ch, mid)
        h, _, _ = raw.read_frame()
        expect(h["message_id"] == mid, "the existing channel was affected")


@case("WIRE-6.3.3", "wire", needs="peer", title="message_id 0 gets the next value of a process-wide counter starting at 1")
def auto_ids(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        expect(hello[0]["message_id"] == 1, f"first auto id {hello[0]['message_id']}, required 1")
        for _ in range(3):
            t.post(W.OP_SIGNAL, ch, 0)
        ids = [raw.read_frame()[0]["message_id"] for _ in range(3)]
        expect(ids == [2, 3, 4], f"auto ids {ids}, required 2, 3, 4")


@case("WIRE-6.3.4", "wire", needs="peer", title="a non-zero application id is kept, duplicates allowed")
def app_ids(ctx):
    with session(ctx, "uds") as sess:
        t, raw, ch, hello = L.client(sess)
        ids = [7, 7, 2 ** 64 - 1, 1]
        for i in ids:
            t.post(W.OP_SIGNAL, ch, i)
        got = [raw.read_frame()[0]["message_id"] for _ in ids]
        expect(got == ids, f"ids on the wire {got}, posted {ids}")


@case("WIRE-6.3.1", "wire", needs="peer", title="message_id is a big-endian u64 at offset 4")
def mid_on_wire(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        t.post(W.OP_SIGNAL, ch, 0x0102030405060708)
        raw.read_frame()
        # read_frame parsed with the oracle; check the raw bytes too
        t.post(W.OP_SIGNAL, ch, 0x1122334455667788)
        raw._fill(5)
        expect(raw.buf[4:12] == bytes.fromhex("1122334455667788"), f"header bytes {raw.buf[:16].hex()}")


@case("WIRE-6.3.2", "hostile", needs="peer", title="request- and signal-role frames with message_id 0 are accepted")
def zero_ids_accepted(ctx):
    with session(ctx, "tcp") as sess:
        t = sess.listen(echo=False)
        raw = sess.connect_raw(t)
        ch = probe(t, raw)
        for op in (W.OP_REQUEST, W.OP_SIGNAL, W.OP_HELLO_REQUEST, W.OP_BYE_SIGNAL):
            raw.send_frame(opcode=op, message_id=0, body=bytes([op]))
            t.wait_recv("a frame with id 0", channel=ch, message_id=0, body=bytes([op]).hex())


@case("WIRE-6.1.3", "hostile", needs="peer", title="received frames are delivered with the receiver's local channel number")
def local_channel(ctx):
    with session(ctx, "uds") as sess:
        t = sess.listen(echo=False)
        raws = [sess.connect_raw(t) for _ in range(3)]
        chans = [probe(t, r) for r in raws]
        expect(len(set(chans)) == 3, f"three connections share channels {chans}")
        for r, ch in zip(raws, chans):
            mid = uid()
            r.send_frame(opcode=W.OP_SIGNAL, message_id=mid, channel=0x4242)
            ev = t.wait_recv("the frame", message_id=mid)
            expect(ev["channel"] == ch, f"delivered on channel {ev['channel']}, the connection's channel is {ch}")


@case("WIRE-8.7.5", "wire", needs="peer", title="a message posted for a closed channel is returned with channel_closed, never dropped")
def post_after_close(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        t.cmd(cmd="close", channel=ch)
        final_signal(t, ch)
        mid = uid()
        t.post(W.OP_SIGNAL, ch, mid, body=b"late")
        r = post_result(t)
        while r["event"] == "posted" and r["message_id"] != mid:
            r = post_result(t)
        if r["event"] == "posted":
            ev = t.wait_recv("the returned message", message_id=mid)
            expect(ev["origin"] == 1 and ev["status"] == W.STATUS_CHANNEL_CLOSED, f"returned {ev}")
        else:
            expect(r["status"] in (W.STATUS_INVALID_CHANNEL_NUMBER,), f"post to a closed channel: {r}")


@case("WIRE-8.6.3", "wire", needs="peer", title="every frame is either written completely or returned as unsent, never both")
def written_or_returned(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        n = 200
        t.cmd(cmd="post", opcode=W.OP_SIGNAL, channel=ch, message_id=70_000, body="cd" * 30000, repeat=n)
        t.cmd(cmd="close", channel=ch)
        fin = final_signal(t, ch, timeout=20)
        how, frames = raw.read_until_closed(timeout=20)
        t.drain(0.5)  # posts the engine had not processed yet come back after it (WIRE-8.7.5)
        expect(fin["status"] == W.STATUS_CHANNEL_CLOSED, "")
        written = [h["message_id"] for h, _, b in frames]
        expect(all(len(b) == 30000 for _, _, b in frames), "a written frame is incomplete")
        returned = [e["message_id"] for e in t.recvs(channel=ch, origin=1, opcode=W.OP_SIGNAL)
                    if e["status"] == W.STATUS_CHANNEL_CLOSED and e["message_id"] >= 70_000]
        expect(sorted(written + returned) == list(range(70_000, 70_000 + n)),
               f"{len(written)} written + {len(returned)} returned != {n} posted (overlap or loss)")


@case("WIRE-8.6.5", "wire", needs="peer", title="bytes arriving after the decision to close are not delivered")
def nothing_after_close(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        t.cmd(cmd="close", channel=ch)
        final_signal(t, ch)
        try:
            raw.send(raw.frame(opcode=W.OP_SIGNAL, message_id=uid()))
        except OSError:
            pass
        t.drain(0.4)
        expect(not [e for e in t.recvs(channel=ch) if e["origin"] == 0], "bytes after the close were delivered")


@case("WIRE-1.2.3", "wire", needs="peer", title="a sender writes only complete frames back to back")
def only_frames(ctx):
    with session(ctx, "uds") as sess:
        t, raw, ch, hello = L.client(sess)
        sizes = [0, 1, 100, 65535, 7]
        for i, n in enumerate(sizes):
            t.post(W.OP_SIGNAL, ch, 500 + i, body=b"s" * n)
        t.cmd(cmd="byesignal", channel=ch, message_id=600)
        fr = [raw.read_frame()[0]["message_id"] for _ in range(len(sizes) + 1)]
        raw.shutdown_write()
        how, rest = raw.read_until_closed()
        expect(fr == [500, 501, 502, 503, 504, 600] and not rest and raw.buf == b"",
               f"frames {fr}, then {len(rest)} frames and {len(raw.buf)} stray bytes")


alias("WIRE-2.3.10", "WIRE-8.6.3", "each frame is written completely before the next")
alias("WIRE-10.1.1", "WIRE-2.1.3", "the little-endian-host layout is produced on every host (Zig BE hosts differ)")
alias("WIRE-10.1.3", "WIRE-8.6.1", "close with FIN, never RST (Zig always resets)")
alias("WIRE-10.1.5", "WIRE-8.4.6", "simultaneous ByeRequests end in a close (Zig deadlocks)")
alias("WIRE-10.1.6", "WIRE-7.2.2", "a stalled frame is bounded by the frame timeout (Zig waits forever)")
alias("WIRE-10.1.7", "WIRE-8.2.1", "the HelloRequest is written first, even before internal_a messages")
alias("WIRE-10.3.2", "WIRE-9.4.2", "a posted WelcomeResponse fails (Zig drops it silently)")
alias("WIRE-10.3.4", "WIRE-8.1.5", "a second listener on a port in use fails (Zig sets SO_REUSEPORT)")
alias("WIRE-10.3.7", "WIRE-8.7.3", "the final Signal keeps status 22 and adds ~close_reason")
alias("WIRE-10.3.8", "WIRE-8.4.7", "end of stream after a bye is channel_closed")
alias("WIRE-10.4.1", "WIRE-8.1.2", "the successful WelcomeResponse has origin 0")
alias("WIRE-10.4.2", "WIRE-8.2.5", "failed connects come back as HelloResponse or HelloRequest")
alias("WIRE-10.4.3", "WIRE-8.7.6", "end of stream is recv_failed, not peer_disconnected")
alias("WIRE-10.4.4", "WIRE-8.4.5", "a received ByeResponse closes even without a ByeRequest")


@case("WIRE-10.1.2", "hostile", needs="peer", title="frames Zig would deliver (origin 1, status != 0, opcodes 8-15, more on bye) are refused")
def zig_no_validation(ctx):
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x12, status=22, message_id=1)], W.STATUS_INVALID_MESSAGE)
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x0B, message_id=1)], W.STATUS_INVALID_OP_CODE)
    refused_frames(ctx, [O.make_header(channel_number=1, proto=0x25, message_id=1)], W.STATUS_INVALID_MORE_USAGE)


@case("WIRE-3.1.3", "hostile", needs="peer", title="opcodes 10-15 are invalid everywhere: posts fail, received frames are refused")
def invalid_opcodes(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        for op in range(10, 16):
            t.post(op, ch, uid())
            r = post_result(t)
            expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_OP_CODE, f"post of opcode {op}: {r}")
        expect(raw.nothing_within(0.2), "an invalid opcode reached the wire")
    refused_frames(ctx, [O.make_header(channel_number=1, proto=op, message_id=1) for op in (10, 12, 15)],
                   W.STATUS_INVALID_OP_CODE)


@case("WIRE-8.2.6", "wire", needs="peer", title="an engine does not reconnect on its own")
def no_reconnect(ctx):
    with session(ctx, "tcp") as sess:
        lsock, addr = sess.raw_listener()
        t = sess.connect_testee(addr)
        ch = post_result(t)["channel"]
        raw = sess.accept(lsock)
        raw.read_frame()
        raw.shutdown_write()
        raw.close()
        final_signal(t, ch)
        lsock.settimeout(1.0)
        try:
            lsock.accept()
            reconnected = True
        except OSError:
            reconnected = False
        expect(not reconnected, "the testee connected again by itself")


@case("WIRE-8.5.1", "wire", needs="peer", title="the abort ByeSignal closes at once: not written, returned, then unsent messages, then the final Signal")
def abort_now(ctx):
    with session(ctx, "uds") as sess:
        t, raw, ch, hello = L.client(sess, opts=[])
        t.cmd(cmd="hold", on=False)
        big = "ef" * 60000
        t.cmd(cmd="post", opcode=W.OP_SIGNAL, channel=ch, message_id=80_000, body=big, repeat=60)
        t.cmd(cmd="close", channel=ch)
        bs = t.wait_recv("the ByeSignal back", opcode=W.OP_BYE_SIGNAL, channel=ch)
        fin = final_signal(t, ch, timeout=20)
        how, frames = raw.read_until_closed(timeout=20)
        expect(all(h["proto"] & 15 != W.OP_BYE_SIGNAL for h, _, _ in frames), "the abort ByeSignal was written")
        expect(len(frames) < 60, "all 60 frames were written: the abort did not take effect at once")
        i_bs, i_fin = t.events.index(bs), t.events.index(fin)
        between = [e for e in t.events[i_bs + 1:i_fin] if e.get("event") == "recv" and e["channel"] == ch]
        expect(all(e["origin"] == 1 and e["status"] == W.STATUS_CHANNEL_CLOSED and e["opcode"] == W.OP_SIGNAL
                   for e in between), f"between the ByeSignal and the final Signal: {between[:3]}")


@case("WIRE-8.7.2", "wire", needs="peer", title="a returned message keeps opcode, id, flags, headers and body, with origin 1 and the reason")
def returned_intact(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        bye_id, mid = uid(), 0x0102030405060708
        t.cmd(cmd="bye", channel=ch, message_id=bye_id)
        t.post(W.OP_REQUEST, ch, mid, headers=[(b"k", b"v")], body=b"payload", more=1, internal_b=1)
        t.wait(lambda e: e["event"] == "posted" and e["message_id"] == mid, "the message accepted")
        raw.read_frame()
        raw.send_frame(opcode=W.OP_BYE_RESPONSE, message_id=bye_id)
        ev = t.wait_recv("the returned message", message_id=mid)
        want = dict(opcode=W.OP_REQUEST, origin=1, status=W.STATUS_CHANNEL_CLOSED, more=1, internal_b=1, channel=ch,
                    text_headers=b"k:v\r\n".hex(), body=b"payload".hex())
        got = {k: ev[k] for k in want}
        expect(got == want, f"returned {got}, required {want}")


@case("WIRE-8.7.12", "wire", needs="peer", title="a bye-completed close: the bye frame, unsent messages (channel_closed), then the final Signal")
def bye_close_order(ctx):
    with session(ctx, "tcp") as sess:
        t, raw, ch, hello = L.client(sess)
        bye_id, late = uid(), uid()
        t.cmd(cmd="bye", channel=ch, message_id=bye_id)
        t.post(W.OP_SIGNAL, ch, late)
        t.wait(lambda e: e["event"] == "posted" and e["message_id"] == late, "the message accepted")
        raw.read_frame()
        raw.send_frame(opcode=W.OP_BYE_RESPONSE, message_id=bye_id)
        fin = final_signal(t, ch)
        ret = t.wait_recv("the late message returned", message_id=late, origin=1)
        t.drain(0.2)
        seq = [(e["opcode"], e["origin"], e["message_id"]) for e in t.recvs(channel=ch)]
        ev = t.recvs(channel=ch)
        expect(ev[0]["opcode"] == W.OP_BYE_RESPONSE and ev[0]["origin"] == 0, f"deliveries {seq}: the bye frame must come first")
        expect(ret["status"] == W.STATUS_CHANNEL_CLOSED and len(t.recvs(channel=ch, message_id=late)) == 1,
               f"deliveries {seq}: the unsent message must come back once, with channel_closed")
        # before the final Signal if the engine had queued it; after it only if
        # the engine had not processed the post yet (WIRE-8.7.5)
        if t.events.index(ret) > t.events.index(fin):
            ctx.partial("the unsent message came after the final Signal (allowed by WIRE-8.7.5 for a post not yet processed)")
        expect(close_reason(fin) == "channel_closed", f"~close_reason {close_reason(fin)!r}")


alias("WIRE-3.1.2", "WIRE-2.3.1", "opcodes 8-15 never appear on the wire")
alias("WIRE-3.2.3", "WIRE-8.7.6", "end of stream is recv_failed; peer_disconnected is never delivered")
alias("WIRE-8.7.10", "WIRE-7.5.1", "a refusal delivers the unsent messages and a final Signal naming the refusal's status")
alias("WIRE-5.4.3", "WIRE-8.1.3", "port 0 binds an ephemeral port, reported in ~bound_to")
alias("WIRE-5.4.5", "WIRE-8.1.3", "uds|@name is the abstract socket NUL+name")
alias("WIRE-10.2.5", "WIRE-8.1.3", "~bound_to reports what was bound; abstract names work through headers")
alias("WIRE-8.7.1", "WIRE-8.7.12", "a close delivers the event's message, the unsent messages, then one final Signal")
from . import stateful as _stateful  # noqa: E402  (the machine checks WIRE-8.7.4 too)
alias("WIRE-8.7.4", "WIRE-9.2.2", "the final Signal is a channel's last delivery (state machine)")
