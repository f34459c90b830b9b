"""Loader for tofu golden vectors (format: interop/VECTORS.md).

One loader for every consumer: the interop runners (C, oracle, testee) and
the conformance suite. It reads

  * our generated sets, interop/vectors/*.json (schema
    interop/schema/vectors.schema.json), and
  * the Zig tofu sets in ../shared/interop/ (or $TOFU_VECTORS_DIR), read in
    place and adapted to the same test shape; a missing or empty directory
    yields one VectorSet whose `skip_reason` says so instead of an error.

Every file is validated against its JSON Schema (the `jsonschema` package)
before use; a malformed file raises VectorError.

    from tofu_conformance import vectors
    for vs in vectors.load_all():
        if vs.skip_reason:
            print("skip", vs.name, vs.skip_reason); continue
        for t in vs.tests:          # plain dicts, see VECTORS.md
            ...
"""

import glob
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUR_DIR = os.path.join(ROOT, "interop", "vectors")
SCHEMA_DIR = os.path.join(ROOT, "interop", "schema")
SHARED_DIR_DEFAULT = os.path.normpath(os.path.join(ROOT, "..", "shared", "interop"))

TEST_TYPES = ("frame", "textheaders-iterate", "textheaders-validate", "textheaders-append", "address",
              "address-lookup", "stream")


class VectorError(Exception):
    """A vector file that cannot be used (unreadable or not schema-valid)."""


class VectorSet:
    """One vector file: its header fields and its tests (plain dicts)."""

    def __init__(self, name, test_type, path, source=None, notes=None, tests=(), origin="tofu-c",
                 skip_reason=None, description=""):
        self.name = name
        self.test_type = test_type
        self.path = path
        self.source = source or {}
        self.notes = notes or {}
        self.tests = list(tests)
        self.origin = origin  # "tofu-c" (generated) or "zig" (shared Zig sets)
        self.skip_reason = skip_reason
        self.description = description

    def __iter__(self):
        return iter(self.tests)

    def __len__(self):
        return len(self.tests)

    def __repr__(self):
        return "VectorSet(%r, %r, %d tests%s)" % (self.name, self.test_type, len(self.tests),
                                                  ", skipped: " + self.skip_reason if self.skip_reason else "")

    def test_id(self, test):
        return "%s:%d" % (self.name, test["tcId"])


def shared_dir():
    """Where the Zig tofu sets live: $TOFU_VECTORS_DIR or ../shared/interop."""
    return os.environ.get("TOFU_VECTORS_DIR") or SHARED_DIR_DEFAULT


_validators = {}


def _validator(schema_file):
    if schema_file not in _validators:
        try:
            import jsonschema
        except ImportError as e:  # pragma: no cover - install-deps.sh installs it
            raise VectorError("the jsonschema package is missing (tools/install-deps.sh installs it)") from e
        with open(os.path.join(SCHEMA_DIR, schema_file), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validators[schema_file] = cls(schema)
    return _validators[schema_file]


def validate(doc, schema_file="vectors.schema.json", where="<doc>"):
    """Raises VectorError unless doc follows the schema and the rules the
    schema cannot say (unique tcIds, numberOfTests, flags declared)."""
    errs = sorted(_validator(schema_file).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errs:
        e = errs[0]
        loc = "/".join(str(p) for p in e.absolute_path)
        raise VectorError("%s: schema violation at /%s: %s (%d errors)" % (where, loc, e.message[:300], len(errs)))
    tests = doc["tests"]
    if doc["numberOfTests"] != len(tests):
        raise VectorError("%s: numberOfTests %d but %d tests" % (where, doc["numberOfTests"], len(tests)))
    ids = [t["tcId"] for t in tests]
    if len(set(ids)) != len(ids):
        raise VectorError("%s: duplicate tcId" % where)
    notes = doc.get("notes")
    if notes is not None:
        for t in tests:
            for fl in t.get("flags", ()):
                if fl not in notes:
                    raise VectorError("%s: tcId %d uses flag %r that notes does not explain" % (where, t["tcId"], fl))


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise VectorError("%s: %s" % (path, e)) from e


def load_file(path):
    """Loads and validates one of our vector files."""
    doc = _read_json(path)
    validate(doc, where=path)
    return VectorSet(doc["set"], doc["testType"], path, doc["source"], doc["notes"], doc["tests"],
                     description=doc["description"])


def load_dir(path=OUR_DIR):
    """All *.json vector files of a directory, sorted by name. A missing or
    empty directory gives one skipped VectorSet saying why."""
    files = sorted(glob.glob(os.path.join(path, "*.json"))) if os.path.isdir(path) else []
    if not files:
        why = "directory absent" if not os.path.isdir(path) else "no *.json files"
        return [VectorSet(os.path.basename(path.rstrip("/")) or path, None, path,
                          skip_reason="no vectors in %s (%s)" % (path, why))]
    return [load_file(f) for f in files]


# -- the Zig tofu sets (../shared/interop), adapted in memory -----------------

# set name -> (our test type, requirement ids, function turning a test into ours)
def _adapt_iterator(t):
    return {"tcId": t["tcId"], "comment": t["comment"], "flags": [], "result": "valid",
            "reqs": ["WIRE-4.2.1"], "input": t["input"], "headers": t["headers"]}


ZIG_SETS = {
    "textheaders-iterator": ("textheaders-iterate", _adapt_iterator),
}


def load_zig_file(path):
    """Loads one Zig tofu set read in place. Returns a VectorSet; a set this
    loader has no adapter for is returned skipped (with the reason)."""
    doc = _read_json(path)
    validate(doc, "zig-set.schema.json", where=path)
    name = doc["set"]
    if name not in ZIG_SETS:
        return VectorSet(name, None, path, doc["source"], origin="zig",
                         skip_reason="no adapter for Zig set %r (%s)" % (name, path))
    test_type, adapt = ZIG_SETS[name]
    ours = {
        "schema": "tofu-vectors.schema.json",
        "set": "zig-" + name,
        "testType": test_type,
        "source": {"name": doc["source"]["name"], "version": doc["source"]["commit"]},
        "description": doc["semantics"] + " (how: " + doc["source"].get("how", "?") + ")",
        "notes": {},
        "numberOfTests": doc["numberOfTests"],
        "tests": [adapt(t) for t in doc["tests"]],
    }
    validate(ours, where=path + " (adapted)")
    return VectorSet(ours["set"], test_type, path, ours["source"], {}, ours["tests"], origin="zig",
                     description=ours["description"])


def load_zig_dir(path=None):
    """The Zig tofu sets; missing/empty directory -> one skipped VectorSet."""
    path = path or shared_dir()
    files = sorted(glob.glob(os.path.join(path, "*.json"))) if os.path.isdir(path) else []
    if not files:
        why = "directory absent" if not os.path.isdir(path) else "no *.json files"
        return [VectorSet("zig-sets", None, path, origin="zig",
                          skip_reason="Zig tofu vector sets not available at %s (%s)" % (path, why))]
    return [load_zig_file(f) for f in files]


def load_all(our_dir=OUR_DIR, zig_dir=None):
    """Our generated sets followed by the Zig sets."""
    return load_dir(our_dir) + load_zig_dir(zig_dir)


def iter_tests(sets, test_type=None):
    """(VectorSet, test) for every test of every non-skipped set, optionally
    only of one test type."""
    for vs in sets:
        if vs.skip_reason or (test_type and vs.test_type != test_type):
            continue
        for t in vs.tests:
            yield vs, t


def hexb(s):
    """bytes of a vector hex string."""
    return bytes.fromhex(s)
