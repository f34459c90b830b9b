#!/usr/bin/env python3
"""`make test-wireshark`: the tofu Lua dissector against the golden vectors.

Writes pcap files (Ethernet/IPv4/TCP built by hand with struct) carrying the
complete frames of the vector sets, runs

    tshark -X lua_script:interop/wireshark/tofu.lua -r FILE -T pdml

and asserts that every frame is shown, in order, with every header field,
the proto bits, each text header (name and value bytes, split as the
vectors' decoded form says), the body and the receiver verdict exactly as
the vector says. Layouts: one frame per TCP segment; the whole stream cut
into segments of varying sizes (frames split across segments and several
frames per segment); the 65535-byte frames in MSS-sized segments; a
non-default port chosen through the preference.

Skips (exit 0, with a message) when tshark is missing or has no Lua.
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "conformance"))

from tofu_conformance import vectors as V  # noqa: E402

LUA = os.path.join(HERE, "tofu.lua")
CLIENT = (bytes([10, 0, 0, 1]), 40001)
SERVER = (bytes([10, 0, 0, 2]), 7099)
TIMEOUT = 300


# ---------------------------------------------------------------- pcap


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _packet(src, dst, seq, ack, flags, payload):
    (sip, sport), (dip, dport) = src, dst
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


class Pcap:
    """A one-connection capture: handshake, then client->server data."""

    def __init__(self, path, server_port=7099):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = 0
        self.cli = CLIENT
        self.srv = (SERVER[0], server_port)
        self.cseq, self.sseq = 1000, 5000
        self._put(_packet(self.cli, self.srv, self.cseq, 0, 0x02, b""))
        self._put(_packet(self.srv, self.cli, self.sseq, self.cseq + 1, 0x12, b""))
        self.cseq += 1
        self.sseq += 1
        self._put(_packet(self.cli, self.srv, self.cseq, self.sseq, 0x10, b""))

    def _put(self, pkt):
        self.t += 1
        self.f.write(struct.pack("<IIII", 1700000000 + self.t // 1000, (self.t % 1000) * 1000, len(pkt), len(pkt)))
        self.f.write(pkt)

    def send(self, payload):
        self._put(_packet(self.cli, self.srv, self.cseq, self.sseq, 0x18, payload))
        self.cseq += len(payload)
        self._put(_packet(self.srv, self.cli, self.sseq, self.cseq, 0x10, b""))

    def reply(self, payload):
        """server -> client (the tofu port is then the source port)"""
        self._put(_packet(self.srv, self.cli, self.sseq, self.cseq, 0x18, payload))
        self.sseq += len(payload)
        self._put(_packet(self.cli, self.srv, self.cseq, self.sseq, 0x10, b""))

    def close(self):
        self.f.close()


# ---------------------------------------------------------------- expectations


def complete_frames(sets):
    """(id, test) of every vector whose frame is complete (the dissector
    shows a frame once all of it has arrived)."""
    out = []
    for vs, t in V.iter_tests(sets, "frame"):
        d = t.get("decoded")
        if d and "textHeaders" in d or (d and t.get("errorClass") not in (None, "incomplete")
                                       and len(t["frame"]) // 2 == 16 + d["header"]["textHeadersLen"]
                                       + d["header"]["bodyLen"]):
            out.append((vs.test_id(t), t))
    return out


def expected(t):
    d = t["decoded"]
    h = d["header"]
    frame = bytes.fromhex(t["frame"])
    thl = h["textHeadersLen"]
    e = {
        "tofu.channel": str(h["channelNumber"]),
        "tofu.proto": str(h["proto"]),
        "tofu.opcode": str(h["opcode"]),
        "tofu.origin": str(h["origin"]),
        "tofu.more": str(h["more"]),
        "tofu.internal_a": str(h["internalA"]),
        "tofu.internal_b": str(h["internalB"]),
        "tofu.status": str(h["status"]),
        "tofu.message_id": str(h["messageId"]),
        "tofu.thl": str(thl),
        "tofu.bl": str(h["bodyLen"]),
        "verdict": t.get("errorClass") or "valid",
        "body": frame[16 + thl:].hex(),
        "text_headers": frame[16:16 + thl].hex(),
    }
    if "textHeaders" in d:
        e["headers"] = [tuple(p) for p in d["textHeaders"]]
        if d["textHeaders"]:
            e["header_texts"] = [(printable(bytes.fromhex(n)), printable(bytes.fromhex(v)))
                                 for n, v in d["textHeaders"]]
    return e


def printable(b):
    """The dissector's text form of header bytes."""
    return "".join(chr(c) if 0x20 <= c <= 0x7E else "\\x%02x" % c for c in b)


# ---------------------------------------------------------------- tshark


def tshark_pdml(pcap, extra=()):
    cmd = ["tshark", "-n", "-X", "lua_script:" + LUA, "-r", pcap, "-T", "pdml",
           "-o", "tcp.desegment_tcp_streams:TRUE"] + list(extra)
    p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise SystemExit("tshark failed (%d): %s" % (p.returncode, p.stderr.decode()[-2000:]))
    err = [ln for ln in p.stderr.decode().splitlines() if "Running as user" not in ln and ln.strip()]
    if err:
        raise SystemExit("tshark/Lua reported errors:\n" + "\n".join(err[:20]))
    return ET.fromstring(p.stdout)


def _val(field):
    return field.get("value", "")


def shown_frames(root):
    """Every tofu PDU tshark shows, in capture order, as a dict."""
    out = []
    for pkt in root.iter("packet"):
        for proto in pkt.findall("proto"):
            if proto.get("name") != "tofu":
                continue
            got = {"headers": [], "body": "", "text_headers": "", "labels": []}
            for fld in proto.iter("field"):
                name = fld.get("name")
                if name in ("tofu.channel", "tofu.proto", "tofu.opcode", "tofu.origin", "tofu.more",
                            "tofu.internal_a", "tofu.internal_b", "tofu.status", "tofu.message_id",
                            "tofu.thl", "tofu.bl"):
                    got[name] = str(int(fld.get("show"), 0))
                elif name == "tofu.verdict":
                    got["verdict"] = fld.get("show")
                elif name == "tofu.body":
                    got["body"] = _val(fld)
                elif name == "tofu.text_headers":
                    got["text_headers"] = _val(fld)
                elif name == "tofu.header":
                    sub = {c.get("name"): c for c in fld.findall("field")}
                    if "tofu.header.name" in sub:
                        n, v = _val(sub["tofu.header.name"]), _val(sub["tofu.header.value"]) \
                            if "tofu.header.value" in sub else ""
                        got["headers"].append((n, v))
                        got.setdefault("header_texts", []).append(
                            (sub["tofu.header.name_text"].get("show"), sub["tofu.header.value_text"].get("show")))
                if name == "tofu.opcode":
                    got["labels"].append(fld.get("showname", ""))
            out.append(got)
    return out


def compare(label, shown, frames):
    fails = []
    if len(shown) != len(frames):
        fails.append("%s: tshark shows %d tofu frames, want %d" % (label, len(shown), len(frames)))
    for (tid, t), got in zip(frames, shown):
        want = expected(t)
        for k, v in want.items():
            g = got.get(k)
            if k == "headers":
                g = [tuple(x) for x in got["headers"]]
            if g != v:
                fails.append("%s %s: %s shown as %r, want %r" % (label, tid, k, str(g)[:120], str(v)[:120]))
                break
    return fails


def segments(stream, sizes):
    i, k = 0, 0
    while i < len(stream):
        n = sizes[k % len(sizes)]
        yield stream[i:i + n]
        i += n
        k += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "interop", "wireshark"))
    a = ap.parse_args()
    if not shutil.which("tshark"):
        print("test-wireshark: SKIPPED: tshark is not installed")
        return 0
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout
    if "with Lua" not in ver:
        print("test-wireshark: SKIPPED: this tshark is built without Lua, so tofu.lua cannot be loaded")
        return 0
    os.makedirs(a.out, exist_ok=True)
    sets = V.load_dir(V.OUR_DIR)
    frames = complete_frames(sets)
    small = [(i, t) for i, t in frames if len(t["frame"]) // 2 <= 4096]
    large = [(i, t) for i, t in frames if len(t["frame"]) // 2 > 4096]
    fails, checked = [], 0

    def run(label, fr, write, extra=(), layout_check=None):
        nonlocal checked
        path = os.path.join(a.out, label + ".pcap")
        write(path)
        root = tshark_pdml(path, extra)
        shown = shown_frames(root)
        f = compare(label, shown, fr)
        if layout_check:
            f += layout_check(label, root)
        fails.extend(f)
        checked += len(fr)
        print("test-wireshark: %-22s %4d frames, %s" % (label, len(fr), "ok" if not f else "%d FAILED" % len(f)))

    def one_per_segment(path, fr=small, port=7099):
        p = Pcap(path, port)
        for _i, t in fr:
            p.send(bytes.fromhex(t["frame"]))
        p.close()

    def split(path):
        # sizes chosen so boundaries fall inside headers, text headers and
        # bodies, and short frames share segments
        p = Pcap(path)
        stream = b"".join(bytes.fromhex(t["frame"]) for _i, t in small)
        for seg in segments(stream, [1, 7, 16, 3, 100, 15, 17, 1460, 33, 2, 250]):
            p.send(seg)
        p.close()

    def big(path):
        p = Pcap(path)
        stream = b"".join(bytes.fromhex(t["frame"]) for _i, t in large)
        for seg in segments(stream, [1460]):
            p.send(seg)
        p.close()

    run("one-per-segment", small, one_per_segment)
    def layout(label, root):
        """The capture really has frames split over segments and segments
        holding several frames (else the test would prove less)."""
        multi = split_only = 0
        for pkt in root.iter("packet"):
            n = sum(1 for pr in pkt.findall("proto") if pr.get("name") == "tofu")
            payload = any(fl.get("name") == "tcp.payload" for fl in pkt.iter("field"))
            multi += n >= 2
            split_only += n == 0 and payload
        print("test-wireshark: %-22s %d segments with several frames, %d segments holding only part of a frame"
              % (label, multi, split_only))
        return [] if multi and split_only else ["%s: layout not exercised (%d, %d)" % (label, multi, split_only)]

    run("split-and-coalesced", small, split, layout_check=layout)
    run("max-size-parts", large, big)
    ref = [(i, t) for i, t in small if i.startswith("frames-reference:")]
    run("port-preference", ref, lambda path: one_per_segment(path, ref, 7444), ["-o", "tofu.tcp_port:7444"])

    def both_directions(path):
        # the reference session: requests from the client, answers from the
        # server, each direction reassembled on its own
        p = Pcap(path)
        for k, (_i, t) in enumerate(ref):
            (p.send if k % 2 == 0 else p.reply)(bytes.fromhex(t["frame"]))
        p.close()

    run("both-directions", ref, both_directions)

    # opcode names come from the same table as spec/tofu-wire.toml
    import tomllib

    with open(os.path.join(ROOT, "spec", "tofu-wire.toml"), "rb") as fh:
        names = {o["value"]: o["name"] for o in tomllib.load(fh)["opcodes"]}
    path = os.path.join(a.out, "one-per-segment.pcap")
    for got in shown_frames(tshark_pdml(path)):
        op = int(got["tofu.opcode"])
        if op in names and names[op] not in " ".join(got["labels"]):
            fails.append("opcode %d shown as %r, want name %s" % (op, got["labels"], names[op]))
            break
    for f in fails[:30]:
        print("FAIL " + f)
    print("test-wireshark: %d passed, %d failed, 0 skipped (frame checks over 5 captures)"
          % (checked - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
