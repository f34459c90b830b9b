"""Stateful testing of the engine through the peer testee: a hypothesis
RuleBasedStateMachine connects, sends, posts, closes, resets and says bye
across several connections at once, and after every step checks that each
channel's deliveries are exactly what was sent, in order, nothing lost or
duplicated, and that every close ends in exactly one final Signal."""
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, \
    run_state_machine_as_test

from .. import wire as W
from ..peer import close_reason, is_final_signal, session
from ..registry import case
from .common import expect
from .hostile import probe, uid


class Conn:
    def __init__(self, raw, ch, first_id):
        self.raw = raw
        self.ch = ch
        self.sent = [first_id]  # ids the runner sent, in order
        self.posted = []        # ids the testee posted, in order
        self.read = []          # ids the runner read from the testee
        self.closed = False


def make_machine(sess, t, transport):
    class EngineMachine(RuleBasedStateMachine):
        conns = Bundle("conns")

        def __init__(self):
            super().__init__()
            self.all = []

        def delivered(self, c):
            return [e["message_id"] for e in t.recvs(channel=c.ch, origin=0)]

        def finals(self, c):
            return [e for e in t.events if is_final_signal(e) and e["channel"] == c.ch]

        @rule(target=conns)
        def connect(self):
            raw = sess.connect_raw(t)
            mid = uid()
            raw.send_frame(opcode=W.OP_SIGNAL, message_id=mid)
            ch = t.wait_recv("the first frame of a new connection", message_id=mid)["channel"]
            expect(all(c.ch != ch for c in self.all if not c.closed), f"channel {ch} given to two open connections")
            c = Conn(raw, ch, mid)
            self.all.append(c)
            return c

        @rule(c=conns, n=st.integers(1, 20), more=st.booleans(), body=st.binary(max_size=300))
        def runner_sends(self, c, n, more, body):
            if c.closed:
                return
            ids = [uid() for _ in range(n)]
            c.raw.send(b"".join(c.raw.frame(proto=W.OP_REQUEST | (0x20 if more else 0), message_id=i, body=body)
                                for i in ids))
            c.sent += ids
            t.wait_recv("the last frame sent", message_id=ids[-1], channel=c.ch)

        @rule(c=conns, n=st.integers(1, 20))
        def testee_posts(self, c, n):
            if c.closed:
                return
            first = uid()
            for _ in range(n - 1):
                uid()
            t.cmd(cmd="post", opcode=W.OP_SIGNAL, channel=c.ch, message_id=first, body="", repeat=n)
            ids = list(range(first, first + n))
            c.posted += ids
            for _ in ids:
                c.read.append(c.raw.read_frame()[0]["message_id"])

        @rule(c=consumes(conns), how=st.sampled_from(["fin", "rst", "abort", "bye_response"]))
        def close(self, c, how):
            if c.closed:
                return
            if how == "fin":
                c.raw.shutdown_write()
                want = "recv_failed"
            elif how == "rst":
                c.raw.reset()
                # a Unix socket has no reset: the peer sees end of stream
                want = "communication_failed" if transport == "tcp" else "recv_failed"
            elif how == "abort":
                t.cmd(cmd="close", channel=c.ch)
                want = "channel_closed"
            else:  # an unsolicited ByeResponse is delivered, then closes
                mid = uid()
                c.raw.send_frame(opcode=W.OP_BYE_RESPONSE, message_id=mid)
                c.sent.append(mid)
                want = "channel_closed"
            c.closed = True
            fin = t.wait(lambda e: is_final_signal(e) and e["channel"] == c.ch, f"final Signal of {c.ch}")
            expect(close_reason(fin) == want, f"close by {how}: ~close_reason {close_reason(fin)!r}, required {want}")
            if how in ("fin", "abort", "bye_response"):
                h, frames = c.raw.read_until_closed()
                expect(h == "fin" and not frames, f"after close by {how} the testee ended with {h}, {len(frames)} frames")

        @invariant()
        def per_channel_exact(self):
            for c in self.all:
                got = self.delivered(c)
                expect(got == c.sent, f"channel {c.ch}: delivered {got[:8]}... ({len(got)}), sent {c.sent[:8]}... "
                       f"({len(c.sent)}): lost, duplicated or reordered")
                expect(c.read == c.posted, f"channel {c.ch}: read {c.read} posted {c.posted}")
                expect(len(self.finals(c)) == (1 if c.closed else 0),
                       f"channel {c.ch}: {len(self.finals(c))} final Signals, closed={c.closed}")
                for fin in self.finals(c):  # the final Signal is the channel's last delivery
                    after = [e for e in t.events[t.events.index(fin) + 1:]
                             if e.get("event") == "recv" and e["channel"] == c.ch
                             and not (e["origin"] == 1 and e["status"] == W.STATUS_CHANNEL_CLOSED)]
                    expect(not after, f"channel {c.ch}: deliveries after its final Signal: {after[:2]}")

        def teardown(self):
            for c in self.all:
                if not c.closed:
                    c.closed = True
                    c.raw.shutdown_write()
                    t.wait(lambda e, ch=c.ch: is_final_signal(e) and e["channel"] == ch, f"final Signal of {c.ch}")
                c.raw.close()
            t.drain(0.2)
            for c in self.all:
                expect(len(self.finals(c)) == 1, f"channel {c.ch}: {len(self.finals(c))} final Signals")
                expect(self.delivered(c) == c.sent, f"channel {c.ch}: deliveries changed after close")

    return EngineMachine


@case("WIRE-9.2.2", "stateful", needs="peer", title="deliveries keep each channel's order across interleaved channels (state machine)")
def state_machine(ctx):
    """Also checks WIRE-8.7.4: the final Signal is each channel's last delivery."""
    for transport in ("tcp", "uds"):
        with session(ctx, transport) as sess:
            t = sess.listen(echo=False)
            machine = make_machine(sess, t, transport)
            run_state_machine_as_test(machine, settings=ctx.hsettings(ci=6, thorough=20,
                                                                       stateful_steps=ctx.examples(12, 25)))
