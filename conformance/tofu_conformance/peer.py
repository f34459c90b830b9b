"""Client side of the peer testee contract (spec/testee.md), and the raw
sockets through which the runner plays the other end of a connection.

Everything said on a raw socket and every event of a testee is noted in the
case's log, so `--trace` shows the whole exchange of a failing case.
"""
import contextlib
import errno
import json
import os
import queue
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from . import oracle as O
from . import wire as W
from .testee import Skip

EVENT_TIMEOUT = 5.0


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PeerTestee:
    """One peer testee process (one engine, one application)."""

    def __init__(self, argv, role, address, extra, env, notes, label="testee"):
        self.notes = notes
        self.label = label
        self.events = []
        self.q = queue.Queue()
        self.address = address
        cmd = list(argv) + [role, address] + list(extra)
        self.note(f"start: {' '.join(cmd)}")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env)
        except OSError as e:
            raise Skip(f"peer testee cannot start: {e}")
        self.stderr = []
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def note(self, s):
        self.notes.append(f"[{self.label}] {s}")

    def _read_out(self):
        for line in self.proc.stdout:
            line = line.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "garbage", "line": line}
            self.q.put(ev)
        self.q.put({"event": "exit"})

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace").rstrip())
            del self.stderr[:-100]

    def _pump(self, timeout):
        try:
            ev = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        self.events.append(ev)
        self.note("event " + describe_event(ev))
        return ev

    def wait(self, pred, what, timeout=EVENT_TIMEOUT):
        """The first event (already seen or new) matching pred."""
        for ev in self.events:
            if pred(ev) and not ev.get("_taken"):
                ev["_taken"] = True
                return ev
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.label}: no {what} within {timeout}s")
            ev = self._pump(left)
            if ev is None:
                continue
            if ev["event"] == "exit":
                self.events.pop()
                self.q.put(ev)
                rc = self.proc.wait()
                if rc == 127:
                    raise Skip("peer testee exited 127 (unsupported)")
                raise AssertionError(f"{self.label} exited (status {rc}) while waiting for {what}; "
                                     f"stderr: {' | '.join(self.stderr[-5:])}")
            if pred(ev):
                ev["_taken"] = True
                return ev

    def drain(self, quiet=0.3):
        """Collects events until none arrives for `quiet` seconds."""
        while self._pump(quiet) is not None:
            pass
        return self.events

    def recvs(self, **match):
        return [e for e in self.events if e["event"] == "recv"
                and all(e.get(k) == v for k, v in match.items())]

    def wait_recv(self, what="delivery", timeout=EVENT_TIMEOUT, **match):
        return self.wait(lambda e: e["event"] == "recv" and all(e.get(k) == v for k, v in match.items()),
                         f"{what} {match}", timeout)

    def cmd(self, **kw):
        line = json.dumps(kw, separators=(",", ":"))
        self.note("command " + line[:300])
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise AssertionError(f"{self.label} closed its stdin (exited?)")

    def post(self, opcode, channel, message_id=0, headers=(), body=b"", **kw):
        self.cmd(cmd="post", opcode=opcode, channel=channel, message_id=message_id,
                 headers=[[bytes(n).hex(), bytes(v).hex()] for n, v in headers], body=bytes(body).hex(), **kw)

    def ready(self):
        return self.wait(lambda e: e["event"] == "ready", "ready event", timeout=10)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.cmd(cmd="quit")
                self.proc.stdin.close()
            except (AssertionError, OSError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.label} did not exit within 5 s of quit")


def describe_event(ev):
    if ev.get("event") != "recv":
        return json.dumps(ev)[:300]
    name = W.OPCODES.get(ev["opcode"], ("op%d" % ev["opcode"],))[0]
    th = bytes.fromhex(ev["text_headers"])
    return (f"recv {name} origin={ev['origin']} status={W.STATUS_NAMES.get(ev['status'], ev['status'])} "
            f"more={ev['more']} bits67={ev['internal_a']}{ev['internal_b']} ch={ev['channel']} "
            f"id={ev['message_id']} headers={th[:80]!r} body={bytes.fromhex(ev['body'])[:40]!r}")


def close_reason(ev):
    for n, v in ev.get("headers", []):
        if bytes.fromhex(n) == b"~close_reason":
            return bytes.fromhex(v).decode("latin-1")
    return None


def is_final_signal(ev):
    """The final Signal of a channel (WIRE-8.7.3). A returned Signal has the
    same opcode, origin and status; the ~close_reason header tells them apart."""
    return ev.get("event") == "recv" and ev["opcode"] == W.OP_SIGNAL and ev["origin"] == 1 \
        and ev["status"] == W.STATUS_CHANNEL_CLOSED and close_reason(ev) is not None


class Raw:
    """The runner's end of one connection, speaking raw bytes."""

    def __init__(self, sock, notes, label):
        self.s = sock
        self.notes = notes
        self.label = label
        self.buf = b""
        self.s.setblocking(False)

    def note(self, s):
        self.notes.append(f"[{self.label}] {s}")

    def send(self, data):
        self.note(f"send {len(data)} bytes: {data[:64].hex()}{'...' if len(data) > 64 else ''}")
        self.s.setblocking(True)
        self.s.settimeout(10)
        try:
            self.s.sendall(data)
        finally:
            self.s.setblocking(False)

    def frame(self, opcode=W.OP_SIGNAL, message_id=1, text_headers=b"", body=b"", channel=0x0101,
              status=0, proto=None):
        h = O.make_header(channel_number=channel, proto=opcode if proto is None else proto, status=status,
                          message_id=message_id)
        return O.encode_frame(h, text_headers, body)

    def send_frame(self, **kw):
        self.send(self.frame(**kw))

    def _fill(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return None
        try:
            d = self.s.recv(1 << 16)
        except ConnectionResetError:
            return "rst"
        except OSError as e:
            return "rst" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "error"
        if not d:
            return "fin"
        self.buf += d
        return "data"

    def read_frame(self, timeout=EVENT_TIMEOUT):
        """The next complete frame (header dict, text headers, body), or an
        AssertionError naming what came instead."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                h, th, body, used = O.parse_frame(self.buf)
                self.buf = self.buf[used:]
                self.note(f"read frame {describe_frame(h, th, body)}")
                return h, th, body
            except O.CodecError:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.label}: no complete frame within {timeout}s "
                                     f"({len(self.buf)} bytes pending)")
            r = self._fill(left)
            if r in ("fin", "rst", "error"):
                raise AssertionError(f"{self.label}: connection closed ({r}) while a frame was expected; "
                                     f"{len(self.buf)} bytes pending")

    def read_until_closed(self, timeout=EVENT_TIMEOUT):
        """Reads everything until the peer closes: ('fin'|'rst'|'open', frames)."""
        deadline = time.monotonic() + timeout
        how = "open"
        while time.monotonic() < deadline:
            r = self._fill(deadline - time.monotonic())
            if r in ("fin", "rst", "error"):
                how = r
                break
        frames = []
        while True:
            try:
                h, th, body, used = O.parse_frame(self.buf)
            except O.CodecError:
                break
            self.buf = self.buf[used:]
            frames.append((h, th, body))
        shown = [describe_frame(*f) for f in frames]
        if len(shown) > 6:
            shown = shown[:3] + [f"... {len(shown) - 6} more ..."] + shown[-3:]
        self.note(f"closed by peer: {how}; {len(frames)} frames before: {shown}; {len(self.buf)} stray bytes")
        return how, frames

    def nothing_within(self, seconds):
        """True when no byte and no close arrives within `seconds`."""
        r = self._fill(seconds)
        return r is None

    def shutdown_write(self):
        self.note("shutdown(SHUT_WR): FIN")
        self.s.shutdown(socket.SHUT_WR)

    def reset(self):
        self.note("close with SO_LINGER 0: RST")
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def describe_frame(h, th, body):
    p = h["proto"]
    name = W.OPCODES.get(p & 15, (f"op{p & 15}",))[0]
    return (f"{name} proto={p:#04x} status={h['status']} ch={h['channel_number']} id={h['message_id']} "
            f"headers={th[:60]!r} body={body[:30]!r}")


class Endpoint:
    """Where a listening testee is, and how the runner reaches it."""

    def __init__(self, transport, tmpdir):
        self.transport = transport
        if transport == "tcp":
            self.port = free_tcp_port()
            self.address = f"tcp|127.0.0.1|{self.port}"
        else:
            self.path = os.path.join(tmpdir, "s.sock")
            self.address = f"uds|{self.path}"

    def connect(self, notes, label):
        if self.transport == "tcp":
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.path)
        return Raw(s, notes, label)


class Session:
    """A listening or connecting testee plus the runner's raw sockets."""

    def __init__(self, ctx, argv, transport):
        self.ctx = ctx
        self.argv = argv
        self.transport = transport
        self.tmp = tempfile.mkdtemp(prefix="tofu-conf-")
        self.testees = []
        self.raws = []
        self.listeners = []
        self.nconn = 0

    def listen(self, echo=True, opts=()):
        ep = Endpoint(self.transport, self.tmp)
        t = PeerTestee(self.argv, "listen", ep.address, (["--echo"] if echo else []) + list(opts),
                       self.ctx.peer_factory.env, self.ctx.notes, f"testee listen {self.transport}")
        self.testees.append(t)
        t.endpoint = ep
        t.ready()
        for e in t.events:  # the Welcome's own events are not a later post's
            e["_taken"] = True
        return t

    def connect_raw(self, t):
        self.nconn += 1
        for attempt in range(50):
            try:
                r = t.endpoint.connect(self.ctx.notes, f"runner conn {self.nconn}")
                break
            except (ConnectionRefusedError, FileNotFoundError):
                time.sleep(0.05)
        else:
            raise AssertionError(f"cannot connect to the testee at {t.endpoint.address}")
        self.raws.append(r)
        return r

    def raw_listener(self):
        """A listening socket of the runner, and its address value."""
        if self.transport == "tcp":
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            addr = f"tcp|127.0.0.1|{s.getsockname()[1]}"
        else:
            path = os.path.join(self.tmp, f"r{len(self.listeners)}.sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            addr = f"uds|{path}"
        s.listen(16)
        self.listeners.append(s)
        return s, addr

    def accept(self, lsock, timeout=EVENT_TIMEOUT):
        r, _, _ = select.select([lsock], [], [], timeout)
        if not r:
            raise AssertionError(f"the testee did not connect within {timeout}s")
        s, _ = lsock.accept()
        self.nconn += 1
        raw = Raw(s, self.ctx.notes, f"runner conn {self.nconn}")
        self.raws.append(raw)
        return raw

    def connect_testee(self, address, opts=()):
        t = PeerTestee(self.argv, "connect", address, list(opts), self.ctx.peer_factory.env, self.ctx.notes,
                       f"testee connect {self.transport}")
        self.testees.append(t)
        t.ready()
        return t

    def close(self):
        err = None
        for r in self.raws:
            r.close()
        for s in self.listeners:
            s.close()
        for t in self.testees:
            try:
                t.close()
            except AssertionError as e:
                err = e
        shutil.rmtree(self.tmp, ignore_errors=True)
        if err:
            raise err


@contextlib.contextmanager
def session(ctx, transport="tcp"):
    argv = ctx.peer_factory.argv
    if not argv:
        raise Skip("no peer testee for this implementation")
    s = Session(ctx, argv, transport)
    try:
        yield s
    finally:
        s.close()


def transports(ctx):
    """Both transports in the thorough profile and for the cases that ask;
    TCP and UDS alternate otherwise to keep the ci profile short."""
    return ("tcp", "uds")
