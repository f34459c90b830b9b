#!/usr/bin/env python3
"""Builds the seed corpora fuzz/corpus/<harness>/<sha1> from
  - the example frames E1-E8 and the TCP session of the Zig behaviour
    reference (section 10), written out below as facts (hex);
  - the Zig text-header iterator vectors (--vectors DIR/textheaders-iterator.json);
  - the project's interop vectors (interop/vectors/*.json), when present;
  - a few hand-picked edge cases per harness.
Only the inputs are taken; files are named by the SHA-1 of their content.
`make fuzz-merge` then keeps the ones that add coverage."""
import argparse
import hashlib
import json
import os
import struct

# Reference section 10 (LE-host wire bytes).
E1 = "1a2b03000000000000000001002000007e636f6e6e6563745f746f3a7463707c3132372e302e302e317c373039390d0a"
E2 = "010103000000000000000007001f00007e636f6e6e6563745f746f3a7564737c2f746d702f6170702e736f636b0d0a"
E3 = "04d204000000000000000001002000007e636f6e6e6563745f746f3a7463707c3132372e302e302e317c373039390d0a"
E4 = "1a2b000000000000000000020000000568656c6c6f"
E5 = "04d20100010203040506070800000000"
E6 = "1a2b220000000000000000002a000e00054a6f622d49443a31323334350d0a6368756e6b"
E7_REQ = "1a2b0500000000000000000300000000"
E7_RESP = "04d20600000000000000000300000000"
E8 = "1a2b0700000000000000000400000000"
RESP_MID2 = "04d20100000000000000000200000000"
SESSION = [E1, E3, E4, RESP_MID2, E7_REQ, E7_RESP]
EXAMPLES = [E1, E2, E3, E4, E5, E6, E7_REQ, E7_RESP, E8]


def hdr(cn=0x1A2B, proto=0, status=0, mid=1, thl=0, bl=0):
    return struct.pack(">HBBQHH", cn, proto, status, mid, thl, bl)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)["tests"]
    except FileNotFoundError:
        return []


def stream_seed(frames, flags=0, mt=0xFFFF, mb=0xFFFF, chunks=()):
    return bytes([flags]) + struct.pack(">HH", mt, mb) + bytes([len(chunks)]) + bytes(chunks) + frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", required=True, help="dir of textheaders-iterator.json")
    ap.add_argument("--interop", default="interop/vectors")
    ap.add_argument("--out", default="fuzz/corpus")
    a = ap.parse_args()
    seeds = {h: set() for h in ("header", "stream", "th_iter", "th_validate", "address", "engine")}

    iv = lambda n: load(os.path.join(a.interop, n))
    frames = [bytes.fromhex(x) for x in EXAMPLES]
    for n in ("frames-reference.json", "frames-sizes.json", "frames-truncated.json",
              "frames-header.json", "frames-proto.json"):
        frames += [bytes.fromhex(t["frame"]) for t in iv(n) if len(t["frame"]) <= 8192]
    extra = [hdr(proto=p) for p in (0x47, 0x40, 0x45, 0x20, 0x12, 0xF9, 0x0A, 0x2F, 0x25)]
    extra += [hdr(proto=1, mid=0), hdr(proto=4, mid=0), hdr(proto=6, mid=0), hdr(status=19),
              hdr(thl=0xFFFF, bl=0xFFFF), b"", b"\x1a\x2b\x03"]
    for f in frames + extra:
        seeds["header"].add(f)

    session = b"".join(bytes.fromhex(x) for x in SESSION)
    seeds["stream"] |= {
        stream_seed(session), stream_seed(session, flags=1),
        stream_seed(session, flags=1, chunks=(1, 2, 3, 5, 7, 11, 13, 17, 0, 19)),
        stream_seed(session, chunks=(16, 32, 0, 21, 16, 16, 16)),
        stream_seed(session[:-5], flags=1, chunks=(15, 1)),
        stream_seed(bytes.fromhex(E6), flags=3, mt=16, mb=4),
        stream_seed(bytes.fromhex(E6), flags=3, mt=13, mb=5, chunks=(3, 14, 0, 2)),
        stream_seed(bytes.fromhex(E8) + hdr(proto=0x12) + bytes.fromhex(E4), flags=1),
        stream_seed(hdr(proto=0x23) + hdr(proto=0x0B), flags=1, chunks=(8, 8)),
        stream_seed(b""),
    }
    for t in iv("frames-reference.json") + iv("frames-truncated.json"):
        seeds["stream"].add(stream_seed(bytes.fromhex(t["frame"]), flags=1, chunks=(7,)))

    # engine: raw byte streams a peer writes into a channel
    ex = [bytes.fromhex(x) for x in EXAMPLES]
    seeds["engine"] |= set(ex) | {
        session, session[:-5], session + b"\x00" * 7,
        bytes.fromhex(E4) * 40,  # more frames than the pool holds
        hdr(proto=0x01, mid=1) * 24,
        bytes.fromhex(E4) + hdr(proto=0x12) + bytes.fromhex(E4),  # forged origin
        bytes.fromhex(E4) + hdr(proto=0x0A),  # bad opcode
        hdr(status=3), hdr(proto=0x23), hdr(proto=0x06, mid=0),
        bytes.fromhex(E7_RESP) + bytes.fromhex(E4),  # nothing after ByeResponse
        hdr(proto=0, thl=14, bl=5) + b"Job-ID:12345\r\nchunk" + hdr(proto=0x40, bl=1) + b"x",
        b"", b"\x1a",
    }

    zig = load(os.path.join(a.vectors, "textheaders-iterator.json"))
    blocks = [bytes.fromhex(t["input"]) for t in zig]
    blocks += [bytes.fromhex(t["input"]) for t in iv("textheaders-iterate.json")]
    vblocks = [bytes.fromhex(t["input"]) for t in iv("textheaders-validate.json")]
    seeds["th_iter"] |= set(blocks) | set(vblocks[::4])
    seeds["th_validate"] |= set(vblocks) | set(blocks[::4])
    for t in iv("textheaders-append.json"):
        seeds["th_validate"].add(b"\x1f".join(bytes.fromhex(x) for f in t["fields"] for x in f))
    seeds["th_validate"] |= {b"a\x1fb\x1fname\x1f value\x1fx\x1fa\r\nb:c", b"Job-ID\x1f12345"}

    values = [bytes.fromhex(t["value"]) for t in iv("addresses.json")]
    values += [b"tcp|127.0.0.1|7099", b"uds|/tmp/app.sock", b"tcp||7099", b"uds|", b"uds|@abs",
               b"xyz|h|1", b"tcp|h|+7_099", b"tcp|h|07099", b"tcp|h|65536", b"a|b|c|d",
               b"tcp|[::1]|0", b"uds|" + b"p" * 107, b"tcp|" + b"h" * 256 + b"|1"]
    values += [b"~connect_to:tcp|127.0.0.1|7099\r\n", b"~listen_on:uds|@x\r\n",
               b"a:b\r\n~listen_on: tcp||0 \r\n~connect_to:uds|/x\r\n",
               b":x\r\n~connect_to:uds|/y\r\n", b"~connect_to\r\n~listen_on:uds|/z"]
    seeds["address"] |= set(values)

    for h, s in seeds.items():
        d = os.path.join(a.out, h)
        os.makedirs(d, exist_ok=True)
        for data in s:
            with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
        print(f"{h}: {len(s)} seeds -> {d}")


if __name__ == "__main__":
    main()
