"""Codec cases for address values and the address lookup (WIRE-5.2, WIRE-5.3,
WIRE-10.2)."""
from hypothesis import strategies as st

from .. import oracle as O
from ..registry import case
from ..testee import hexb
from .common import blocks, expect, oracle_call, require, same, testee_result


def addr_json(a):
    out = {"kind": a["kind"]}
    if a["kind"] == "tcp":
        out.update(host=a["host"].hex(), port=a["port"])
    else:
        out.update(path=a["path"].hex(), abstract=a["abstract"])
    if "listen" in a:
        out["listen"] = a["listen"]
    return out


def addr_want(fn, b):
    r = oracle_call(fn, b)
    return (r[0], addr_json(r[1])) if r[0] == "ok" else r


def parse(c, v):
    return testee_result(c.call("parse_address", value=hexb(v)))


def address_table(ctx, rows):
    """rows: (value, "ok" | class | expected dict)."""
    c = ctx.codec
    require(ctx, "parse_address", value=b"uds|".hex())
    for v, want in rows:
        ow = addr_want(O.parse_address, v)
        if want == "ok":
            expect(ow[0] == "ok", f"oracle refuses {v!r}")
        elif isinstance(want, dict):
            expect(ow == ("ok", want), f"oracle disagrees on {v!r}: {ow}")
        else:
            expect(ow == ("error", want), f"oracle disagrees on {v!r}: {ow}")
        same("parse_address", parse(c, v), ow, v)


PARTS = st.sampled_from([b"tcp", b"uds", b"", b"127.0.0.1", b"7099", b"0", b"65536", b"/tmp/s", b"@x", b"+1",
                         b"h\x00", b"\x01", b"x" * 107, b"x" * 108, b"x" * 255, b"x" * 256, b"::1", b"07099"])
VALUES = st.one_of(st.lists(PARTS, min_size=1, max_size=5).map(b"|".join), st.binary(max_size=24))


@case("WIRE-5.2.1", "codec", title="exactly two forms: tcp|host|port and uds|path, case-sensitive, untrimmed")
def addr_forms(ctx):
    address_table(ctx, [
        (b"tcp|127.0.0.1|7099", {"kind": "tcp", "host": "3132372e302e302e31", "port": 7099}),
        (b"tcp||0", {"kind": "tcp", "host": "", "port": 0}), (b"tcp|::1|7099", "ok"),
        (b"tcp|h|07099", {"kind": "tcp", "host": "68", "port": 7099}),
        (b"uds|/tmp/app.sock", {"kind": "uds", "path": b"/tmp/app.sock".hex(), "abstract": False}),
        (b"uds|", {"kind": "uds", "path": "", "abstract": False}),
        (b"uds|@tofu-1", {"kind": "uds", "path": b"tofu-1".hex(), "abstract": True}),
        (b"TCP|h|1", "address_protocol"), (b"Uds|/x", "address_protocol"), (b" tcp|h|1", "address_protocol"),
        (b"tcp |h|1", "address_protocol")])
    c = ctx.codec

    @ctx.given(VALUES)
    def parse_matches(v):
        same("parse_address", parse(c, v), addr_want(O.parse_address, v), v)


@case("WIRE-5.2.2", "codec", title="one part, or four and more, is address_parts, without fault")
def addr_parts(ctx):
    address_table(ctx, [(b"tcp", "address_parts"), (b"", "address_parts"), (b"a|b|c|d", "address_parts"),
                        (b"tcp|h|1|", "address_parts"), (b"|" * 3, "address_parts"), (b"|" * 200, "address_parts"),
                        (b"uds|a|b|c|d|e|f", "address_parts")])


@case("WIRE-5.2.3", "codec", title="a wrong protocol word is address_protocol")
def addr_protocol(ctx):
    address_table(ctx, [(b"xyz|h|1", "address_protocol"), (b"uds|h|1", "address_protocol"),
                        (b"tcp|x", "address_protocol"), (b"udp|/x", "address_protocol"), (b"|h|1", "address_protocol"),
                        (b"|/x", "address_protocol"), (b"tcp\x00|h|1", "address_protocol")])


@case("WIRE-5.2.4", "codec", title="a TCP host is 0-255 bytes without control bytes, taken verbatim")
def addr_host(ctx):
    rows = [(b"tcp|" + b"h" * 255 + b"|1", "ok"), (b"tcp|" + b"h" * 256 + b"|1", "address_host"),
            (b"tcp|a\x01b|1", "address_host"), (b"tcp| h |1", {"kind": "tcp", "host": b" h ".hex(), "port": 1}),
            (b"tcp|fe80::1%lo|1", "ok"), (b"tcp|\x80\xff|1", "ok")]
    rows += [(b"tcp|a" + bytes([x]) + b"|1", "address_host") for x in list(range(0x20)) + [0x7F]]
    address_table(ctx, rows)


@case("WIRE-5.2.5", "codec", title="a TCP port is 1-5 ASCII digits up to 65535")
def addr_port(ctx):
    address_table(ctx, [(b"tcp|h|+7099", "address_port"), (b"tcp|h|7_099", "address_port"),
                        (b"tcp|h|65536", "address_port"), (b"tcp|h|", "address_port"), (b"tcp|h|123456", "address_port"),
                        (b"tcp|h| 7099", "address_port"), (b"tcp|h|7099 ", "address_port"), (b"tcp|h|-1", "address_port"),
                        (b"tcp|h|0x10", "address_port"), (b"tcp|h|65535", {"kind": "tcp", "host": "68", "port": 65535}),
                        (b"tcp|h|00000", {"kind": "tcp", "host": "68", "port": 0}), (b"tcp|h|99999", "address_port"),
                        (b"tcp|h|\xd9\xa1", "address_port")])
    c = ctx.codec

    @ctx.given(st.text(alphabet="0123456789+-_ x", min_size=0, max_size=7))
    def ports(p):
        v = b"tcp|h|" + p.encode()
        same("parse_address", parse(c, v), addr_want(O.parse_address, v), v)


@case("WIRE-5.2.6", "codec", title="a UDS path is 0-107 bytes without NUL, the '@' counted")
def addr_path(ctx):
    address_table(ctx, [(b"uds|" + b"p" * 107, "ok"), (b"uds|" + b"p" * 108, "address_path"),
                        (b"uds|@" + b"p" * 106, {"kind": "uds", "path": (b"p" * 106).hex(), "abstract": True}),
                        (b"uds|@" + b"p" * 107, "address_path"), (b"uds|a\x00b", "address_path"),
                        (b"uds|\x00", "address_path"), (b"uds|@", {"kind": "uds", "path": "", "abstract": True}),
                        (b"uds|\x01\xff", "ok")])


@case("WIRE-5.2.7", "codec", title="the host is checked before the port")
def addr_host_first(ctx):
    address_table(ctx, [(b"tcp|\x01|x", "address_host"), (b"tcp|" + b"h" * 300 + b"|99999", "address_host"),
                        (b"tcp|h|x", "address_port")])


@case("WIRE-5.2.8", "codec", title="the formatter writes tcp|host|port / uds|path and refuses what the parser refuses")
def addr_format(ctx):
    c = ctx.codec
    require(ctx, "format_address", kind="uds", path="", abstract=False)
    rows = [(dict(kind="tcp", host=b"127.0.0.1", port=7099), b"tcp|127.0.0.1|7099"),
            (dict(kind="tcp", host=b"", port=0), b"tcp||0"), (dict(kind="tcp", host=b"h", port=80), b"tcp|h|80"),
            (dict(kind="uds", path=b"/tmp/x", abstract=False), b"uds|/tmp/x"),
            (dict(kind="uds", path=b"name", abstract=True), b"uds|@name"),
            (dict(kind="tcp", host=b"a|b", port=1), "address_host"), (dict(kind="tcp", host=b"a\x01", port=1), "address_host"),
            (dict(kind="tcp", host=b"h" * 256, port=1), "address_host"),
            (dict(kind="uds", path=b"p" * 108, abstract=False), "address_path"),
            (dict(kind="uds", path=b"p" * 107, abstract=True), "address_path"),
            (dict(kind="uds", path=b"a|b", abstract=False), "address_path"),
            (dict(kind="uds", path=b"a\x00", abstract=False), "address_path"),
            (dict(kind="uds", path=b"@x", abstract=False), "address_path")]  # would read back as abstract

    def fmt(a):
        kw = dict(a)
        for k in ("host", "path"):
            if k in kw:
                kw[k] = kw[k].hex()
        return testee_result(c.call("format_address", **kw))

    for a, want in rows:
        want = ("ok", want.hex()) if isinstance(want, bytes) else ("error", want)
        r = oracle_call(O.format_address, a)
        expect((r[0], r[1].hex() if r[0] == "ok" else r[1]) == want, f"oracle disagrees on {a}")
        same("format_address", fmt(a), want, a)

    addrs = st.one_of(
        st.fixed_dictionaries({"kind": st.just("tcp"), "host": st.binary(max_size=20), "port": st.integers(0, 65535)}),
        st.fixed_dictionaries({"kind": st.just("uds"), "path": st.binary(max_size=20), "abstract": st.booleans()}))

    @ctx.given(addrs)
    def format_round_trip(a):
        want = oracle_call(O.format_address, a)
        got = fmt(a)
        same("format_address", got, (want[0], want[1].hex()) if want[0] == "ok" else want, a)
        if got[0] == "ok":
            same("parse(format(a))", parse(c, bytes.fromhex(got[1])), ("ok", addr_json(a)), a)


def lookup_table(ctx, rows):
    c = ctx.codec
    require(ctx, "parse_address", headers=b"~listen_on:uds|\r\n".hex())
    for b, want in rows:
        ow = addr_want(O.find_address, b)
        if isinstance(want, dict):
            expect(ow == ("ok", want), f"oracle disagrees on {b!r}: {ow}")
        else:
            expect(ow == ("error", want), f"oracle disagrees on {b!r}: {ow}")
        same("parse_address(headers)", testee_result(c.call("parse_address", headers=hexb(b))), ow, b)


TCP_H1 = {"kind": "tcp", "host": "68", "port": 1}


@case("WIRE-5.3.1", "codec", title="the first ~connect_to or ~listen_on pair wins, whichever it is")
def lookup_first(ctx):
    lookup_table(ctx, [
        (b"~connect_to:tcp|h|1\r\n~listen_on:uds|/x\r\n", dict(TCP_H1, listen=False)),
        (b"~listen_on:tcp|h|1\r\n~connect_to:uds|/x\r\n", dict(TCP_H1, listen=True)),
        (b"a:b\r\n~connect_to:tcp|h|1\r\n~connect_to:tcp|g|2\r\n", dict(TCP_H1, listen=False)),
        (b"~connect_to:a|b|c|d\r\n~connect_to:tcp|h|1\r\n", "address_parts")])
    c = ctx.codec

    @ctx.given(blocks)
    def lookup_matches(b):
        same("parse_address(headers)", testee_result(c.call("parse_address", headers=hexb(b))),
             addr_want(O.find_address, b), b)


@case("WIRE-5.3.2", "codec", title="no address pair is address_missing")
def lookup_missing(ctx):
    lookup_table(ctx, [(b"", "address_missing"), (b"a:b\r\n", "address_missing"),
                       (b"~connect_to_x:tcp|h|1\r\n", "address_missing"), (b"~connect_to\r\n~x:1", "address_parts")])


@case("WIRE-5.3.3", "codec", title="the lookup parses the value as the iterator yields it (SP/HTAB trimmed)")
def lookup_trimmed(ctx):
    lookup_table(ctx, [(b"~connect_to: tcp|h|1 \r\n", dict(TCP_H1, listen=False)),
                       (b"~connect_to:\ttcp|h|1\t", dict(TCP_H1, listen=False)),
                       (b"~connect_to:tcp|h| 1\r\n", "address_port"), (b"~connect_to:tcp|h|1\r", "address_port")])


@case("WIRE-10.2.1", "codec", title="four or more parts are refused with address_parts (Zig writes out of bounds)")
def zig_four_parts(ctx):
    address_table(ctx, [(b"tcp|h|1|2", "address_parts"), (b"tcp|127.0.0.1|7099|x|y|z", "address_parts")])


@case("WIRE-10.2.2", "codec", title="a three-part value that is not tcp is address_protocol (Zig connects anyway)")
def zig_three_parts(ctx):
    address_table(ctx, [(b"xyz|h|1", "address_protocol"), (b"uds|h|1", "address_protocol")])


@case("WIRE-10.2.3", "codec", title="ports like +7_099 or -0 are refused (Zig's parseInt accepts them)")
def zig_ports(ctx):
    address_table(ctx, [(b"tcp|h|+7_099", "address_port"), (b"tcp|h|-0", "address_port"), (b"tcp|h|+0", "address_port")])


@case("WIRE-10.2.6", "codec", title="over-long hosts and paths are refused at parse time (Zig truncates)")
def zig_truncation(ctx):
    address_table(ctx, [(b"tcp|" + b"h" * 256 + b"|1", "address_host"), (b"uds|" + b"p" * 108, "address_path")])
