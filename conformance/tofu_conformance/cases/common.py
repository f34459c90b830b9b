"""Helpers and hypothesis strategies shared by the case modules."""
from hypothesis import strategies as st

from .. import oracle as O
from ..testee import hexb


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def oracle_call(fn, *a, **kw):
    """('ok', value) or ('error', class) from an oracle function."""
    try:
        return ("ok", fn(*a, **kw))
    except O.CodecError as e:
        return ("error", e.name)


def testee_result(resp):
    if "error" in resp:
        return ("error", resp["error"])
    return ("ok", resp["ok"])


def same(what, got, want, given):
    expect(got == want, f"{what}: implementation gives {got!r}, the spec requires {want!r} for input {given!r}")


def require(ctx, op, **probe):
    """Skips the case when the codec testee does not support op."""
    ctx.codec.call(op, **probe)


def hdr(**kw):
    return O.make_header(**kw)


def pairs_hex(pairs):
    return [[hexb(n), hexb(v)] for n, v in pairs]


def u(bits):
    return st.integers(0, (1 << bits) - 1)


headers = st.fixed_dictionaries({
    "channel_number": u(16), "proto": u(8), "status": u(8), "message_id": u(64),
    "text_headers_len": u(16), "body_len": u(16)})

# Headers a conforming receiver mostly accepts, so generated streams reach
# the later checks and the limits.
plausible_headers = st.fixed_dictionaries({
    "channel_number": u(16),
    "proto": st.builds(O.proto_make, st.integers(0, 15), st.sampled_from([0, 0, 0, 1]),
                       st.booleans(), st.booleans(), st.booleans()),
    "status": st.sampled_from([0, 0, 0, 1, 22, 255]),
    "message_id": st.one_of(st.just(0), u(64)),
    "text_headers_len": u(16), "body_len": u(16)})

# Text-header blocks from the tokens that matter to the grammar, plus raw
# bytes: adversarial input for the iterator, the validator and the lookup.
TOKENS = [b"a", b"Name", b"x-y", b":", b"::", b"\r\n", b"\r", b"\n", b" ", b"\t", b"\r\n\r\n",
          b"\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"v", b"1", b"|", b"~connect_to",
          b"~listen_on", b"tcp", b"uds", b"tcp|127.0.0.1|7099", b"uds|/tmp/s", b"@", b"+",
          b"_", b"65535", b"65536", b"0"]
blocks = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=24).map(b"".join),
    st.binary(max_size=64),
    st.lists(st.tuples(st.sampled_from([b"a", b"~connect_to", b"~listen_on", b" k", b"k ", b""]),
                       st.sampled_from([b":", b": ", b":\t", b""]),
                       st.sampled_from([b"v", b"tcp|h|1", b"uds|/p", b"", b" x ", b"a:b", b"\x80"]),
                       st.sampled_from([b"\r\n", b"\r\n\r\n", b"\n", b"\r", b""])),
             max_size=6).map(lambda ls: b"".join(b"".join(t) for t in ls)),
)
name_chars = st.integers(0x21, 0x7E).filter(lambda c: c != 0x3A)
value_chars = st.one_of(st.integers(0x21, 0x7E), st.integers(0x80, 0xFF))
good_names = st.lists(name_chars, min_size=1, max_size=12).map(bytes)
good_values = st.tuples(value_chars, st.lists(st.one_of(value_chars, st.sampled_from([0x20, 0x09])),
                                              max_size=12), value_chars) \
    .map(lambda t: bytes([t[0]] + t[1] + [t[2]]))
good_values = st.one_of(value_chars.map(lambda c: bytes([c])), good_values)
name_bytes = st.one_of(good_names, st.binary(max_size=12))
value_bytes = st.one_of(good_values, st.binary(max_size=16),
                        st.sampled_from([b"a\r\nb:c", b" v", b"v ", b"\tv", b"a:b", b"\x7f", b"\x80"]))
