"""Tests of the vector machinery itself: schema, loader, generator models.

The implementations are tested by the runners; these tests make sure the
vectors and the loader they rely on cannot silently go wrong.
"""

import copy
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "conformance"))
sys.path.insert(0, os.path.join(ROOT, "interop"))

import gen_vectors as G  # noqa: E402
from tofu_conformance import vectors as V  # noqa: E402


@pytest.fixture(scope="module")
def ours():
    return V.load_dir(V.OUR_DIR)


def test_every_set_loads_and_is_not_empty(ours):
    names = {vs.name for vs in ours}
    assert {"frames-proto", "frames-reference", "frames-header", "frames-sizes", "frames-large",
            "frames-truncated", "textheaders-iterate", "textheaders-validate", "textheaders-append",
            "addresses", "address-lookup", "streams"} <= names
    for vs in ours:
        assert vs.skip_reason is None and len(vs) > 0


def test_vectors_are_current():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "interop", "gen_vectors.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _doc():
    with open(os.path.join(V.OUR_DIR, "frames-reference.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.parametrize("mutate, what", [
    (lambda d: d.update(extra=1), "extra top-level member"),
    (lambda d: d["source"].update(extra=1), "extra source member"),
    (lambda d: d["tests"][0].update(extra=1), "extra test member"),
    (lambda d: d["tests"][0]["decoded"].update(extra=1), "extra decoded member"),
    (lambda d: d["tests"][0]["decoded"]["header"].update(extra=1), "extra header member"),
    (lambda d: d["tests"][0].update(result="invalid"), "invalid without errorClass"),
    (lambda d: d["tests"][0].update(errorClass="bad_opcode"), "valid with errorClass"),
    (lambda d: d["tests"][0].update(errorClass="no_such_class", result="invalid"), "unknown class"),
    (lambda d: d["tests"][0].update(frame="ABCD"), "uppercase hex"),
    (lambda d: d["tests"][0].update(frame="abc"), "odd hex"),
    (lambda d: d["tests"][0]["decoded"]["header"].update(messageId=2 ** 64), "message id too big"),
    (lambda d: d["tests"][0]["decoded"]["header"].update(proto=256), "proto too big"),
    (lambda d: d["tests"][0].update(reqs=["4.2.1"]), "bad requirement id"),
    (lambda d: d["tests"][1].update(tcId=1), "duplicate tcId"),
    (lambda d: d.update(numberOfTests=1), "numberOfTests wrong"),
    (lambda d: d["tests"][0].update(flags=["Undeclared"]), "flag not in notes"),
    (lambda d: d["tests"][0]["decoded"].pop("body"), "textHeaders without body"),
    (lambda d: d.pop("source"), "no source"),
])
def test_schema_rejects(mutate, what):
    d = _doc()
    V.validate(copy.deepcopy(d), where="ok")
    mutate(d)
    with pytest.raises(V.VectorError):
        V.validate(d, where=what)


def test_missing_and_empty_dirs_are_skips(tmp_path):
    (s,) = V.load_zig_dir(str(tmp_path / "absent"))
    assert s.skip_reason and "absent" in s.skip_reason and not s.tests
    (s,) = V.load_zig_dir(str(tmp_path))
    assert s.skip_reason and "no *.json" in s.skip_reason
    (s,) = V.load_dir(str(tmp_path))
    assert s.skip_reason
    assert list(V.iter_tests([s])) == []


def test_unknown_zig_set_is_skipped_with_reason(tmp_path):
    p = tmp_path / "new-set.json"
    p.write_text(json.dumps({"set": "new-set", "source": {"name": "zig-tofu", "commit": "x"},
                             "semantics": "s", "numberOfTests": 1, "tests": [{"tcId": 1, "comment": "c"}]}))
    (s,) = V.load_zig_dir(str(tmp_path))
    assert s.skip_reason and "new-set" in s.skip_reason


def test_malformed_file_raises(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(V.VectorError):
        V.load_dir(str(tmp_path))


def test_zig_sets_read_in_place():
    sets = V.load_zig_dir()
    if sets[0].skip_reason:
        pytest.skip(sets[0].skip_reason)
    it = [s for s in sets if s.name == "zig-textheaders-iterator"]
    assert it and len(it[0]) == 300 and it[0].path.startswith(V.shared_dir())


def test_generator_iterator_model_matches_zig():
    """The generator's iterator model reproduces every Zig iterator vector,
    so the generated iterator vectors carry Zig's semantics."""
    sets = V.load_zig_dir()
    if sets[0].skip_reason:
        pytest.skip(sets[0].skip_reason)
    n = 0
    for _vs, t in V.iter_tests(sets, "textheaders-iterate"):
        got = [[a.hex(), b.hex()] for a, b in G.th_iterate(bytes.fromhex(t["input"]))]
        assert got == t["headers"], t["comment"]
        n += 1
    assert n >= 300


def test_frame_vectors_agree_with_struct(ours):
    """Every frame's first 16 bytes are struct.pack('>HBBQHH') of its decoded
    header, and the proto bits are the bits of proto."""
    import struct

    n = 0
    for _vs, t in V.iter_tests(ours, "frame"):
        d = t.get("decoded")
        if not d:
            assert len(t["frame"]) < 32 and t["errorClass"] == "incomplete"
            continue
        h = d["header"]
        want = struct.pack(">HBBQHH", h["channelNumber"], h["proto"], h["status"], h["messageId"],
                           h["textHeadersLen"], h["bodyLen"])
        assert bytes.fromhex(t["frame"])[:16] == want
        p = h["proto"]
        assert (h["opcode"], h["origin"], h["more"], h["internalA"], h["internalB"]) == (
            p & 15, p >> 4 & 1, p >> 5 & 1, p >> 6 & 1, p >> 7 & 1)
        n += 1
    assert n > 500


def test_all_256_proto_bytes_present(ours):
    (vs,) = [s for s in ours if s.name == "frames-proto"]
    assert sorted(t["decoded"]["header"]["proto"] for t in vs.tests) == list(range(256))


def test_every_receive_error_class_is_covered(ours):
    classes = {t.get("errorClass") for _vs, t in V.iter_tests(ours, "frame")}
    assert {"incomplete", "bad_opcode", "forged_origin", "nonzero_status", "more_not_allowed",
            "zero_response_id", None} <= classes
    classes = {t.get("errorClass") for _vs, t in V.iter_tests(ours, "textheaders-validate")}
    assert {"empty_name", "bad_name_char", "bad_value_char", "empty_value", "missing_colon", "missing_crlf",
            "empty_line"} <= classes
    classes = {t.get("errorClass") for _vs, t in V.iter_tests(ours, "address")}
    assert {"address_parts", "address_protocol", "address_port", "address_host", "address_path"} <= classes
    classes = {t.get("errorClass") for _vs, t in V.iter_tests(ours, "stream")}
    assert {"headers_too_long", "body_too_long", "incomplete", "forged_origin", None} <= classes
    classes = {t.get("errorClass") for _vs, t in V.iter_tests(ours, "address-lookup")}
    assert {"address_missing", None} <= classes


def test_max_size_parts_present(ours):
    sizes = {(t["decoded"]["header"]["textHeadersLen"], t["decoded"]["header"]["bodyLen"])
             for _vs, t in V.iter_tests(ours, "frame") if t["result"] == "valid"}
    assert {(0, 0), (1, 0), (0, 1), (1, 1), (65535, 0), (0, 65535), (65535, 65535)} <= sizes


def test_requirement_ids_exist():
    path = os.path.join(ROOT, "conformance", "tofu_conformance", "requirements.json")
    if not os.path.exists(path):
        pytest.skip("requirements.json not generated yet (spec/gen/gen.py)")
    with open(path, encoding="utf-8") as f:
        reqs = json.load(f)
    if isinstance(reqs, dict):
        reqs = reqs["requirements"]
    ids = {r["id"] for r in reqs}
    used = {r for _vs, t in V.iter_tests(V.load_dir(V.OUR_DIR)) for r in t["reqs"]}
    missing = sorted(used - ids)
    assert not missing, "vectors cite requirement ids the spec does not define: %s" % missing


BREAK_MODES = ["byteorder", "trim-names", "forge-origin", "crlf-inject", "lax-address", "more-anywhere"]


@pytest.mark.parametrize("mode", BREAK_MODES)
def test_vectors_catch_a_broken_testee(mode):
    """The C codec testee broken on purpose (TOFU_TESTEE_BREAK) must fail
    vectors: the runner and the vectors have teeth for each behaviour."""
    testee = os.environ.get("TOFU_CODEC_TESTEE")
    if not testee or not os.path.exists(testee):
        pytest.skip("codec testee not built (TOFU_CODEC_TESTEE unset or missing)")
    env = dict(os.environ, TOFU_TESTEE_BREAK=mode)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "interop", "runner", "run_vectors.py"), "--impl",
                        "testee", "--", testee], capture_output=True, text=True, env=env, timeout=300)
    last = r.stdout.strip().splitlines()[-1]
    assert r.returncode == 1 and " 0 failed" not in last, "break mode %s went unnoticed: %s" % (mode, last)
