"""Cases, the requirements they check, and the context a case runs in.

A case is a function registered with @case("WIRE-x.y.z", group=...). Its ID
is the ID of the requirement it checks, so a case's level (MUST / SHOULD /
MAY) and sentence are read from requirements.json (generated from
spec/tofu-wire.md by spec/gen/gen.py), never restated here.
"""
import json
import os

import hypothesis
from hypothesis import HealthCheck, Phase, settings

from .testee import Skip

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS_JSON = os.path.join(HERE, "requirements.json")

CASES = {}


class Case:
    def __init__(self, cid, group, needs, func, title):
        self.id = cid
        self.group = group
        self.needs = needs
        self.func = func
        self.title = title
        self.level = None
        self.text = None


def case(cid, group, needs="codec", title=""):
    def deco(fn):
        if cid in CASES:
            raise RuntimeError(f"two cases claim {cid}: {CASES[cid].func.__name__} and {fn.__name__}")
        CASES[cid] = Case(cid, group, needs, fn, title or (fn.__doc__ or "").strip().splitlines()[0])
        return fn
    return deco


def load_requirements(path=REQUIREMENTS_JSON):
    """{id: {"level","section","text"}}, or None when the file is absent."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return {r["id"]: r for r in d["requirements"]}


def attach_requirements(reqs):
    """Gives each case its level and sentence; returns the IDs of cases that
    have no requirement (drift between the suite and the spec)."""
    orphans = []
    for c in CASES.values():
        r = (reqs or {}).get(c.id)
        if r is None:
            orphans.append(c.id)
            c.level, c.text = "MUST", None
        else:
            c.level, c.text = r["level"], r["text"]
    return orphans


def id_key(cid):
    """Sort key: WIRE-4.10.1 after WIRE-4.9.2."""
    head, _, rest = cid.partition("-")
    return (head, tuple(int(x) if x.isdigit() else 0 for x in rest.split(".")))


class Ctx:
    """What a case gets: the testees, hypothesis settings and a log."""

    def __init__(self, impl, profile, seed, codec, peer_factory, trace_log):
        self.impl = impl
        self.profile = profile
        self.seed = seed
        self.codec_testee = codec
        self.peer_factory = peer_factory
        self.notes = trace_log  # list of strings shown with --trace
        self.partials = []  # parts of a passing case that could not run

    @property
    def codec(self):
        if self.codec_testee is None:
            raise Skip("no codec testee for this implementation")
        return self.codec_testee

    def partial(self, s):
        self.partials.append(s)

    def note(self, s):
        self.notes.append(s)
        del self.notes[:-200]

    def examples(self, ci, thorough):
        return ci if self.profile == "ci" else thorough

    def hsettings(self, ci=200, thorough=2000, stateful_steps=None):
        kw = dict(
            max_examples=self.examples(ci, thorough),
            deadline=None,
            database=None,
            derandomize=self.profile == "ci" and self.seed is None,
            print_blob=False,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        if stateful_steps:
            kw["stateful_step_count"] = stateful_steps
        return settings(**kw)

    def given(self, *strategies, ci=200, thorough=2000):
        """Runs the decorated function as a hypothesis property, now."""
        def deco(fn):
            test = self.hsettings(ci, thorough)(hypothesis.given(*strategies)(fn))
            if self.seed is not None:
                test = hypothesis.seed(self.seed)(test)
            test()
            return fn
        return deco
