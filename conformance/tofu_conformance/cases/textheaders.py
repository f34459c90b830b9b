"""Codec cases for text headers (WIRE-4, WIRE-10.2.4, WIRE-10.4.5): the
iterator against the Zig vectors and the oracle, the strict validator with
its classes and offsets, the serialiser with its checks."""
from hypothesis import strategies as st

from .. import oracle as O
from .. import wire as W
from ..registry import case
from ..testee import Skip, hexb
from .common import (blocks, expect, good_names, good_values, name_bytes, oracle_call, pairs_hex,
                     require, same, testee_result, value_bytes)

# ---------------------------------------------------------------- iterator


def iter_want(b):
    return ("ok", [[n.hex(), v.hex()] for n, v in O.iterate_headers(b)])


def iterate(c, b):
    return testee_result(c.call("iterate_headers", bytes=hexb(b)))


def iterator_rule(ctx, tc_ids, examples):
    """Checks the Zig vectors the spec names for a rule, then own examples
    (block, expected pairs) that the oracle must agree with."""
    c = ctx.codec
    require(ctx, "iterate_headers", bytes="")
    vs = O.load_vector_set("textheaders-iterator")
    if vs is not None:
        by_id = {t["tcId"]: t for t in vs["tests"]}
        for tc in tc_ids:
            t = by_id[tc]
            got = testee_result(c.call("iterate_headers", bytes=t["input"]))
            expect(got == ("ok", t["headers"]),
                   f"Zig vector tcId {tc} ({t['comment']}): implementation yields {got[1]}, "
                   f"Zig yields {t['headers']} for block {bytes.fromhex(t['input'])!r}")
    for b, pairs in examples:
        want = ("ok", [[n.hex(), v.hex()] for n, v in pairs])
        expect(iter_want(b) == want, f"oracle disagrees with the case on {b!r}")
        same("iterate_headers", iterate(c, b), want, b)


@case("WIRE-4.2.1", "codec", title="the iterator reproduces the algorithm and all 300 Zig vectors")
def iterator_vectors(ctx):
    c = ctx.codec
    require(ctx, "iterate_headers", bytes="")
    vs = O.load_vector_set("textheaders-iterator")
    if vs is not None:
        for t in vs["tests"]:
            got = testee_result(c.call("iterate_headers", bytes=t["input"]))
            expect(got == ("ok", t["headers"]),
                   f"Zig vector tcId {t['tcId']} ({t['comment']}): implementation yields {got[1]}, "
                   f"Zig yields {t['headers']} for block {bytes.fromhex(t['input'])!r}")

    @ctx.given(blocks)
    def iterator_matches(b):
        same("iterate_headers", iterate(c, b), iter_want(b), b)
    if vs is None:
        raise Skip("shared textheaders-iterator.json absent: the 300 Zig vectors were not checked "
                   "(the differential property passed)")


@case("WIRE-4.2.2", "codec", title="lines end only at CR LF; lone CR and LF are data")
def it_crlf(ctx):
    iterator_rule(ctx, [9, 10, 15, 23], [(b"a:b\rc\r\n", [(b"a", b"b\rc")]), (b"a\nb:c", [(b"a\nb", b"c")]),
                                         (b"a:b\n\r\n", [(b"a", b"b\n")])])


@case("WIRE-4.2.3", "codec", title="empty lines are skipped")
def it_empty_lines(ctx):
    iterator_rule(ctx, [7, 24], [(b"\r\n\r\na:b\r\n\r\nc:d", [(b"a", b"b"), (b"c", b"d")])])


@case("WIRE-4.2.4", "codec", title="a last line without CR LF is parsed like any other")
def it_last_line(ctx):
    iterator_rule(ctx, [8], [(b"a:b\r\nc: d ", [(b"a", b"b"), (b"c", b"d")]), (b"x", [(b"x", b"")])])


@case("WIRE-4.2.5", "codec", title="name and value split at the first colon")
def it_first_colon(ctx):
    iterator_rule(ctx, [11], [(b"a:b:c:d\r\n", [(b"a", b"b:c:d")]), (b"a::\r\n", [(b"a", b":")])])


@case("WIRE-4.2.6", "codec", title="a line without colon is a name with an empty value")
def it_no_colon(ctx):
    iterator_rule(ctx, [5], [(b"abc\r\nd:e", [(b"abc", b""), (b"d", b"e")]), (b" \r\n", [(b" ", b"")])])


@case("WIRE-4.2.7", "codec", title="the value loses leading/trailing SP and HTAB and nothing else")
def it_value_trim(ctx):
    iterator_rule(ctx, [2, 3, 18, 27], [(b"a:\x00 b \x00\r\n", [(b"a", b"\x00 b \x00")]),
                                        (b"a: \t b\tc \t\r\n", [(b"a", b"b\tc")]), (b"a:\x0bb\x0b", [(b"a", b"\x0bb\x0b")])])


@case("WIRE-4.2.8", "codec", title="the name is never trimmed or altered")
def it_name_untouched(ctx):
    iterator_rule(ctx, [4], [(b"\ta\t:b\r\n", [(b"\ta\t", b"b")]), (b"A-b:c", [(b"A-b", b"c")])])


@case("WIRE-4.2.9", "codec", title="a line with an empty name ends the iteration")
def it_empty_name(ctx):
    iterator_rule(ctx, [6, 32], [(b":x\r\nb:c\r\n", []), (b"a:b\r\n:\r\nc:d", [(b"a", b"b")])])


@case("WIRE-4.2.10", "codec", title="consumers, the address lookup included, stop at the first END")
def it_consumer_stops(ctx):
    iterator_rule(ctx, [13], [(b"a:b\r\n: x\r\nd:e\r\n", [(b"a", b"b")])])
    c = ctx.codec
    b = b":x\r\n~connect_to:tcp|h|1\r\n"
    same("parse_address(headers)", testee_result(c.call("parse_address", headers=b.hex())),
         ("error", "address_missing"), b)


@case("WIRE-4.2.11", "codec", title="duplicate names are yielded separately, in order")
def it_duplicates(ctx):
    iterator_rule(ctx, [14], [(b"a:1\r\nb:2\r\na:3\r\na:1\r\n", [(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"a", b"1")])])


@case("WIRE-4.2.12", "codec", title="an empty block yields nothing")
def it_empty_block(ctx):
    iterator_rule(ctx, [], [(b"", []), (b"\r\n", [])])


@case("WIRE-10.4.5", "codec", title="Zig iterator semantics are kept, empty-name END included")
def it_zig_kept(ctx):
    c = ctx.codec
    iterator_rule(ctx, [6, 13, 32], [])

    @ctx.given(st.lists(st.sampled_from([b"a:b", b":x", b":", b"k", b"", b" :v", b"~connect_to:uds|"]),
                        max_size=6).map(lambda ls: b"\r\n".join(ls)))
    def empty_names(b):
        same("iterate_headers", iterate(c, b), iter_want(b), b)


# ---------------------------------------------------------------- grammar


strict_lines = st.tuples(good_names, st.sampled_from([b"", b" ", b"\t", b" \t "]), good_values,
                         st.sampled_from([b"", b" ", b"\t"]))
strict_blocks = st.lists(strict_lines, max_size=5)


def strict_block(lines):
    return b"".join(n + b":" + o1 + v + o2 + b"\r\n" for n, o1, v, o2 in lines)


@case("WIRE-4.1.1", "codec", title="a line is name, colon, value, CR LF; a block is its lines in order")
def grammar_lines(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[])

    @ctx.given(st.lists(st.tuples(good_names, good_values), max_size=5))
    def lines(pairs):
        want = b"".join(n + b":" + v + b"\r\n" for n, v in pairs)
        same("serialise_headers", testee_result(c.call("serialise_headers", headers=pairs_hex(pairs))),
             ("ok", want.hex()), pairs)
        same("iterate_headers", iterate(c, want), ("ok", pairs_hex(pairs)), want)


@case("WIRE-4.1.2", "codec", title="names are compared byte for byte")
def grammar_names_exact(ctx):
    c = ctx.codec
    require(ctx, "parse_address", headers=b"~listen_on:uds|\r\n".hex())
    for b, found in ((b"~connect_to:tcp|h|1\r\n", True), (b"~Connect_to:tcp|h|1\r\n", False),
                     (b"~CONNECT_TO:tcp|h|1\r\n", False), (b"~connect_to :tcp|h|1\r\n", False),
                     (b" ~connect_to:tcp|h|1\r\n", False), (b"~connect_to\t:tcp|h|1\r\n", False),
                     (b"~listen_on:uds|x\r\n", True), (b"~listen_ON:uds|x\r\n", False)):
        got = testee_result(c.call("parse_address", headers=b.hex()))
        expect((got[0] == "ok") == found, f"address lookup in {b!r}: {got} (names match byte for byte only)")


@case("WIRE-4.1.3", "codec", title="line order is kept and every duplicate counts")
def grammar_order(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[])

    @ctx.given(st.lists(st.tuples(st.sampled_from([b"a", b"b", b"a"]), good_values), max_size=6))
    def order(pairs):
        got = c.call("serialise_headers", headers=pairs_hex(pairs))
        same("serialise_headers", testee_result(got), ("ok", O.serialise_headers(pairs).hex()), pairs)
        same("iterate(serialise)", iterate(c, bytes.fromhex(got["ok"])), ("ok", pairs_hex(pairs)), pairs)


@case("WIRE-4.1.4", "codec", title="bytes 0x80-0xFF are opaque octets")
def grammar_high_bytes(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")
    hi = bytes(range(0x80, 0x100))
    v = b"x" + hi + b"x"
    same("serialise_headers", testee_result(c.call("serialise_headers", headers=pairs_hex([(b"a", v)]))),
         ("ok", (b"a:" + v + b"\r\n").hex()), v)
    same("validate_headers", testee_result(c.call("validate_headers", bytes=(b"a:" + v + b"\r\n").hex())),
         ("ok", True), v)
    same("iterate_headers", iterate(c, hi + b":" + hi + b"\r\n"), ("ok", [[hi.hex(), hi.hex()]]), hi)
    same("iterate_headers", iterate(c, b"\xc3\xa9:\xff\xfe"), ("ok", [["c3a9", "fffe"]]), "c3a9")


@case("WIRE-4.1.5", "codec", title="canonical blocks are strict, strict blocks are raw")
def grammar_nesting(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")

    @ctx.given(st.lists(st.tuples(good_names, good_values), max_size=5), strict_blocks)
    def nesting(pairs, lines):
        canon = c.call("serialise_headers", headers=pairs_hex(pairs))
        expect("ok" in canon, f"serialiser refused canonical pairs {pairs}: {canon}")
        same("validate(canonical)", testee_result(c.call("validate_headers", bytes=canon["ok"])),
             ("ok", True), canon["ok"])
        b = strict_block(lines)
        same("validate(strict)", testee_result(c.call("validate_headers", bytes=b.hex())), ("ok", True), b)
        same("iterate(strict)", iterate(c, b), iter_want(b), b)


# ---------------------------------------------------------------- validator


def validate_want(b, with_offset=True):
    r = O.validate_headers_at(b)
    return ("ok", True) if r is None else ("error", r[0], r[1]) if with_offset else ("error", r[0])


def validate(c, b):
    r = c.call("validate_headers", bytes=hexb(b))
    if "error" in r:
        return ("error", r["error"], r["offset"]) if "offset" in r else ("error", r["error"])
    return ("ok", r["ok"])


def check_validate(c, b):
    got = validate(c, b)
    want = validate_want(b, with_offset=len(got) == 3)
    same("validate_headers", got, want, b if len(b) < 200 else f"{len(b)}-byte block {b[:40]!r}...")


@case("WIRE-4.3.1", "codec", title="the strict validator accepts exactly the strict blocks of at most 65535 bytes")
def validator_accepts(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")
    for b in (b"", b"a:b\r\n", b"a: b \r\n", b"a:\tb\t\r\n", b"a:b:c\r\n", b"a:b c\r\n", b"a:\x80\xff\r\n",
              b"~connect_to:tcp|127.0.0.1|7099\r\nJob-ID:1\r\n"):
        same("validate_headers", validate(c, b)[:2], ("ok", True), b)

    @ctx.given(strict_blocks)
    def strict_accepted(lines):
        b = strict_block(lines)
        same("validate_headers", validate(c, b)[:2], ("ok", True), b)

    @ctx.given(blocks)
    def same_verdict(b):
        same("validate_headers (accept or refuse)", validate(c, b)[0], validate_want(b)[0], b)


@case("WIRE-4.3.2", "codec", title="a block over 65535 bytes is headers_too_long at offset 65535")
def validator_too_long(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")
    for b in (b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 3) + b"\r\n", b"\x00" * 70000,
              b"a:b\r\n" * 13108):
        check_validate(c, b)
    check_validate(c, b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 4) + b"\r\n")  # 65535: valid


# The spec's table (WIRE-4.3): block -> (class, offset)
VALIDATOR_TABLE = [
    (b"", None), (b"a:b\r\nc: d \r\n", None), (b"\r\na:b\r\n", ("empty_line", 0)), (b":b\r\n", ("empty_name", 0)),
    (b"a b:c\r\n", ("bad_name_char", 1)), (b"ab\r\n", ("missing_colon", 2)), (b"a:\r\n", ("empty_value", 2)),
    (b"a:b\x01\r\n", ("bad_value_char", 3)), (b"a:b\nc\r\n", ("bad_value_char", 3)),
    (b"a:b\rc\r\n", ("bad_value_char", 3)), (b"a:b", ("missing_crlf", 3)), (b"a:b\r", ("missing_crlf", 4)),
    (b"a:", ("empty_value", 2)), (b"ab", ("missing_colon", 2)),
    # more, one per phase transition
    (b"\n", ("empty_line", 0)), (b" a:b\r\n", ("bad_name_char", 0)), (b"a\x7f:b\r\n", ("bad_name_char", 1)),
    (b"a\n:b\r\n", ("missing_colon", 1)), (b"a: \t\n", ("empty_value", 4)), (b"a: \x00b\r\n", ("bad_value_char", 3)),
    (b"a:b \t", ("missing_crlf", 5)), (b"a:b\r\n\r\n", ("empty_line", 5)), (b"a:b\r\nc", ("missing_colon", 6)),
    (b"a b\r\n:x\r\n", ("bad_name_char", 1)), (b":x\r\na b\r\n", ("empty_name", 0)),
]


@case("WIRE-4.3.3", "codec", title="the first offending byte decides class and offset, by phase")
def validator_classes(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")
    for b, want in VALIDATOR_TABLE:
        expect(O.validate_headers_at(b) == want, f"oracle disagrees with the spec's table on {b!r}")
        check_validate(c, b)

    @ctx.given(blocks)
    def classes_match(b):
        check_validate(c, b)


@case("WIRE-4.3.4", "codec", title="an accepted block yields one pair per line, value without OWS")
def validator_iterator_agree(ctx):
    c = ctx.codec
    require(ctx, "validate_headers", bytes="")

    @ctx.given(strict_blocks)
    def one_pair_per_line(lines):
        b = strict_block(lines)
        same("iterate_headers(strict block)", iterate(c, b), ("ok", [[n.hex(), v.hex()] for n, _, v, _ in lines]), b)

    @ctx.given(blocks)
    def accepted_blocks(b):
        if validate(c, b)[0] == "ok":
            lines = b.split(b"\r\n")[:-1]
            want = [[ln.split(b":", 1)[0].hex(), ln.split(b":", 1)[1].strip(b" \t").hex()] for ln in lines]
            same("iterate_headers(accepted block)", iterate(c, b), ("ok", want), b)


# ---------------------------------------------------------------- serialiser


def serialise(c, pairs, **kw):
    return testee_result(c.call("serialise_headers", headers=pairs_hex(pairs), **kw))


def ser_want(pairs, cap=None):
    r = oracle_call(O.serialise_headers, pairs, cap)
    return (r[0], r[1].hex()) if r[0] == "ok" else r


def serialiser_table(ctx, rows):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[])
    for pairs, want in rows:
        want = ("ok", want.hex()) if isinstance(want, bytes) else ("error", want)
        expect(ser_want(pairs) == want, f"oracle disagrees with the case on {pairs}")
        same("serialise_headers", serialise(c, pairs), want, pairs)


@case("WIRE-4.4.1", "codec", title="the serialiser writes name ':' value CR LF and nothing else")
def ser_bytes(ctx):
    serialiser_table(ctx, [([(b"Job-ID", b"12345")], b"Job-ID:12345\r\n"),
                           ([(b"~connect_to", b"tcp|127.0.0.1|7099")], b"~connect_to:tcp|127.0.0.1|7099\r\n"),
                           ([(b"a", b"b c")], b"a:b c\r\n"), ([(b"a", b"b\tc")], b"a:b\tc\r\n")])
    c = ctx.codec

    @ctx.given(st.lists(st.tuples(good_names, good_values), max_size=4))
    def exact(pairs):
        same("serialise_headers", serialise(c, pairs), ("ok", b"".join(n + b":" + v + b"\r\n" for n, v in pairs).hex()), pairs)


@case("WIRE-4.4.2", "codec", title="an empty name is refused (empty_name)")
def ser_empty_name(ctx):
    serialiser_table(ctx, [([(b"", b"v")], "empty_name"), ([(b"", b"")], "empty_name"),
                           ([(b"ok", b"v"), (b"", b"v")], "empty_name")])


@case("WIRE-4.4.3", "codec", title="a name byte outside name-char is refused, never trimmed (bad_name_char)")
def ser_bad_name(ctx):
    rows = [([(b" a", b"v")], "bad_name_char"), ([(b"a ", b"v")], "bad_name_char"),
            ([(b"a:b", b"v")], "bad_name_char"), ([(b"\ta", b"v")], "bad_name_char")]
    for x in range(256):
        ok = 0x21 <= x <= 0x7E and x != 0x3A
        rows.append(([(b"n" + bytes([x]), b"v")], (b"n" + bytes([x]) + b":v\r\n") if ok else "bad_name_char"))
    serialiser_table(ctx, rows)


@case("WIRE-4.4.4", "codec", title="an empty value is refused (empty_value)")
def ser_empty_value(ctx):
    serialiser_table(ctx, [([(b"a", b"")], "empty_value"), ([(b"a", b"1"), (b"b", b"")], "empty_value")])


@case("WIRE-4.4.5", "codec", title="a value with a control byte other than HTAB is refused (bad_value_char)")
def ser_control(ctx):
    rows = [([(b"a", b"x\r\nevil:1")], "bad_value_char"), ([(b"a", b"x\nevil")], "bad_value_char"),
            ([(b"a", b"x\r")], "bad_value_char"), ([(b"a", b" \x01")], "bad_value_char")]
    for x in list(range(0x20)) + [0x7F]:
        rows.append(([(b"a", b"x" + bytes([x]) + b"y")], b"a:x\ty\r\n" if x == 9 else "bad_value_char"))
    serialiser_table(ctx, rows)


@case("WIRE-4.4.6", "codec", title="a value starting or ending with SP/HTAB is refused (value_not_canonical)")
def ser_not_canonical(ctx):
    serialiser_table(ctx, [([(b"a", b" v")], "value_not_canonical"), ([(b"a", b"v\t")], "value_not_canonical"),
                           ([(b"a", b" ")], "value_not_canonical"), ([(b"a", b"\t\t")], "value_not_canonical"),
                           ([(b"a", b" \x00 ")], "bad_value_char"), ([(b"a", b"v v")], b"a:v v\r\n")])


@case("WIRE-4.4.7", "codec", title="no_space when the caller's buffer is too small, headers_too_long beyond 65535")
def ser_space(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[], cap=0)
    rows = [([(b"a", b"b")], 4, "no_space"), ([(b"a", b"b")], 5, b"a:b\r\n"), ([(b"a", b"b"), (b"c", b"d")], 9, "no_space"),
            ([(b"a", b"v" * (W.MAX_TEXT_HEADERS_LEN - 4))], None, b"a:" + b"v" * (W.MAX_TEXT_HEADERS_LEN - 4) + b"\r\n"),
            ([(b"a", b"v" * (W.MAX_TEXT_HEADERS_LEN - 3))], None, "headers_too_long"),
            ([(b"a", b"v" * 40000), (b"b", b"v" * 30000)], None, "headers_too_long"),
            ([(b"a", b"v" * (W.MAX_TEXT_HEADERS_LEN - 3))], 100, "no_space"),  # check 6 before 7
            ([(b"a", b" v")], 1, "value_not_canonical")]  # checks 1-5 before 6
    for pairs, cap, want in rows:
        want = ("ok", want.hex()) if isinstance(want, bytes) else ("error", want)
        kw = {} if cap is None else {"cap": cap}
        expect(ser_want(pairs, cap) == want, f"oracle disagrees with the case on cap {cap}")
        same(f"serialise_headers(cap={cap})", serialise(c, pairs, **kw), want, [(n[:20], v[:20]) for n, v in pairs])


@case("WIRE-4.4.8", "codec", title="a refusal leaves the block unchanged")
def ser_refusal_atomic(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[], keep_going=True)

    @ctx.given(st.lists(st.tuples(name_bytes, value_bytes), max_size=6), st.sampled_from([None, 8, 20, 64]))
    def keep_going(pairs, cap):
        kw = {} if cap is None else {"cap": cap}
        got = c.call("serialise_headers", headers=pairs_hex(pairs), keep_going=True, **kw)
        block, errs = O.serialise_keep_going(pairs, cap)
        same("serialise_headers(keep_going)", testee_result(got), ("ok", {"block": block.hex(), "errors": errs}), (pairs, cap))


@case("WIRE-4.4.9", "codec", title="successful appends give a canonical block the validator accepts and the iterator reads back")
def ser_round_trip(ctx):
    c = ctx.codec
    require(ctx, "serialise_headers", headers=[])

    @ctx.given(st.lists(st.tuples(name_bytes, value_bytes), max_size=5))
    def round_trip(pairs):
        got = serialise(c, pairs)
        same("serialise_headers", got, ser_want(pairs), pairs)
        if got[0] == "ok":
            same("validate(serialised)", validate(c, bytes.fromhex(got[1]))[:2], ("ok", True), pairs)
            same("iterate(serialised)", iterate(c, bytes.fromhex(got[1])), ("ok", pairs_hex(pairs)), pairs)


@case("WIRE-10.2.4", "codec", needs="codec+peer", title="unlike Zig: no name trimming, no CR LF injection, no space after the colon")
def ser_zig_deviation(ctx):
    from .receiver import both

    def codec_part():
        serialiser_table(ctx, [([(b" a ", b"v")], "bad_name_char"), ([(b"a", b"1\r\n~connect_to:tcp|evil|1")], "bad_value_char"),
                               ([(b"a", b"b")], b"a:b\r\n"), ([(b"a\r\n", b"v")], "bad_name_char")])

    def peer_part():  # the engine's own header API refuses the injection too
        from ..peer import session
        from . import lifecycle as L
        with session(ctx, "tcp") as sess:
            t, raw, ch, hello = L.client(sess)
            for name, value in ((b"a", b"1\r\n~connect_to:tcp|evil|1"), (b" a ", b"v"), (b"a", b"x\ny")):
                t.post(W.OP_SIGNAL, ch, 77, headers=[(name, value)])
                r = t.wait(lambda e: e["event"] in ("posted", "post_failed"), "the post's result")
                expect(r["event"] == "post_failed" and r["status"] == W.STATUS_INVALID_MESSAGE,
                       f"posting header {name!r}:{value!r}: {r} (must fail with invalid_message)")
            expect(raw.nothing_within(0.3), "an injected header reached the wire")
    both(ctx, codec_part, peer_part)
