"""Client side of the codec testee contract (spec/testee.md).

One long-lived testee process per run; requests and responses are 4-byte
big-endian length-prefixed JSON. Every exchange is remembered (the last
TRACE_KEEP of them) so a failing case can show what was said (--trace).
"""
import collections
import json
import os
import select
import subprocess
import time


class Skip(Exception):
    """The case cannot run here (testee missing, operation unsupported, ...)."""


class TesteeError(Exception):
    """The testee broke the contract: crashed, hung, or answered nonsense."""


TRACE_KEEP = 40
REQUEST_TIMEOUT = 10.0


def hexb(b):
    return bytes(b).hex()


class CodecTestee:
    def __init__(self, argv, env=None, name="codec"):
        self.argv = list(argv) if argv else None
        self.env = env
        self.name = name
        self.proc = None
        self.trace = collections.deque(maxlen=TRACE_KEEP)
        self.unsupported = set()
        self.missing_reason = None
        self.requests = 0

    # -- process management

    def _start(self):
        if self.argv is None:
            raise Skip("no codec testee for this implementation")
        if self.missing_reason:
            raise Skip(self.missing_reason)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=self.env)
        except OSError as e:
            self.missing_reason = f"codec testee {self.argv[0]} cannot start: {e}"
            raise Skip(self.missing_reason)
        self.stderr_tail = collections.deque(maxlen=50)

    def close(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for s in (p.stdout, p.stderr):
            s.close()

    def _read_exact(self, n, deadline):
        buf = bytearray()
        fd = self.proc.stdout.fileno()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TesteeError(f"testee did not answer within {REQUEST_TIMEOUT}s")
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _died(self, what):
        p = self.proc
        rc = p.poll()
        if rc is None:
            p.kill()
            rc = p.wait()
        err = b""
        try:
            err = p.stderr.read() or b""
        except (OSError, ValueError):
            pass
        self.proc = None
        for s in (p.stdin, p.stdout, p.stderr):
            try:
                s.close()
            except OSError:
                pass
        if rc == 127 and self.requests == 0:
            self.missing_reason = f"codec testee exited 127 (unsupported): {err[-300:]!r}"
            raise Skip(self.missing_reason)
        tail = err.decode("utf-8", "replace")[-2000:]
        raise TesteeError(f"testee {what} (exit status {rc}); stderr tail:\n{tail}")

    # -- requests

    def request(self, op, **kw):
        """Sends one request; returns the parsed response object."""
        if self.proc is None:
            self._start()
        req = dict(op=op, **kw)
        data = json.dumps(req, separators=(",", ":")).encode()
        entry = {"request": req, "response": None}
        self.trace.append(entry)
        try:
            self.proc.stdin.write(len(data).to_bytes(4, "big") + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._died("closed its stdin")
        deadline = time.monotonic() + REQUEST_TIMEOUT
        try:
            head = self._read_exact(4, deadline)
            if head is None:
                self._died("exited")
            body = self._read_exact(int.from_bytes(head, "big"), deadline)
            if body is None:
                self._died("exited mid-response")
        except TesteeError:
            if self.proc is not None:  # hung, not dead: kill it
                self.proc.kill()
                self.proc.wait()
                self.proc = None
            raise
        self.requests += 1
        try:
            resp = json.loads(body)
        except ValueError:
            raise TesteeError(f"testee answered non-JSON: {body[:200]!r}")
        entry["response"] = resp
        if not isinstance(resp, dict) or not ({"ok", "error", "unsupported"} & set(resp)):
            raise TesteeError(f"testee answer breaks the contract: {resp!r}")
        return resp

    def call(self, op, **kw):
        """request() that turns {"unsupported":true} into Skip."""
        if op in self.unsupported:
            raise Skip(f"testee does not support {op}")
        r = self.request(op, **kw)
        if r.get("unsupported"):
            self.unsupported.add(op)
            raise Skip(f"testee does not support {op}")
        return r

    def trace_text(self, last=12):
        out = []
        for e in list(self.trace)[-last:]:
            out.append("  -> " + json.dumps(e["request"], separators=(",", ":"))[:2000])
            out.append("  <- " + (json.dumps(e["response"], separators=(",", ":"))[:2000]
                                  if e["response"] is not None else "(no answer)"))
        return "\n".join(out)


def result_of(resp):
    """('ok', value) or ('error', class) of a response."""
    if "error" in resp:
        return ("error", resp["error"])
    return ("ok", resp["ok"])
