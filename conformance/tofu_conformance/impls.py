"""Implementation descriptions: which testees to start (spec/testee.md).

--impl NAME  a built-in description: c (our testees under build/bin),
             c-asan (the ASan+UBSan builds), oracle (the suite's own model,
             as an example testee written in Python);
--impl FILE  a JSON file {"name", "codec": argv, "peer": argv, "known_failures"}.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE = os.path.dirname(HERE)
REPO = os.path.dirname(CONFORMANCE)


class Impl:
    def __init__(self, name, codec=None, peer=None, known_failures=None):
        self.name = name
        self.codec = codec
        self.peer = peer
        self.known_failures = known_failures


def _build(*p):
    return os.path.join(os.environ.get("BUILD") or os.path.join(REPO, "build"), *p)


def builtin(name):
    kf = os.path.join(CONFORMANCE, "known-failures", name.split("-")[0] + ".txt")
    if name == "c":
        return Impl("tofu-c", [_build("bin", "tofu-codec-testee")], [_build("bin", "tofu-peer-testee")], kf)
    if name == "c-asan":
        return Impl("tofu-c (asan)", [_build("asan", "bin", "tofu-codec-testee")],
                    [_build("asan", "bin", "tofu-peer-testee")], kf)
    if name == "oracle":
        return Impl("oracle", [sys.executable, os.path.join(CONFORMANCE, "testees", "oracle_testee.py")],
                    None, kf)
    return None


def load(spec):
    impl = builtin(spec)
    if impl is not None:
        return impl
    if not os.path.exists(spec):
        raise SystemExit(f"--impl {spec}: neither a built-in name (c, c-asan, oracle) nor a file")
    with open(spec, encoding="utf-8") as f:
        d = json.load(f)
    base = os.path.dirname(os.path.abspath(spec))

    def argv(v):
        if not v:
            return None
        v = [v] if isinstance(v, str) else list(v)
        if not os.path.isabs(v[0]) and os.path.exists(os.path.join(base, v[0])):
            v[0] = os.path.join(base, v[0])
        return v

    kf = d.get("known_failures")
    if kf and not os.path.isabs(kf):
        kf = os.path.join(base, kf)
    return Impl(d.get("name", spec), argv(d.get("codec")), argv(d.get("peer")), kf)


def present(argv):
    """False when the testee program does not exist (its cases skip)."""
    if not argv:
        return False
    p = argv[0]
    return os.path.exists(p) if os.sep in p else True
