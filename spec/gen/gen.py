#!/usr/bin/env python3
"""Generate code and tables from spec/tofu-wire.toml (stdlib only).

Outputs (all committed; `make regen-check` proves they are current):
  codec/include/tofu/codec.h         the region between the GENERATED markers
  codec/src/wire_gen.c               name tables and classification functions
  conformance/tofu_conformance/wire.py  the same constants for Python
  spec/tofu-wire.md                  the tables between <!-- GENERATED:x --> markers
  conformance/tofu_conformance/requirements.json  every requirement line of the prose

Usage: gen.py [--check] [--root DIR]
  --check  write nothing; exit 1 and name every file that would change.
"""
import argparse
import os
import re
import sys
import tomllib

MARK_C_BEGIN = "/* BEGIN GENERATED (spec/gen/gen.py from spec/tofu-wire.toml) */"
MARK_C_END = "/* END GENERATED */"


def upper(name):
    """HelloRequest -> HELLO_REQUEST, text_headers_len -> TEXT_HEADERS_LEN."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return s.upper()


def load(root):
    with open(os.path.join(root, "spec", "tofu-wire.toml"), "rb") as f:
        d = tomllib.load(f)
    check_definition(d)
    return d


def check_definition(d):
    """Refuse an inconsistent definition before generating anything."""
    hdr = d["header"]
    off = 0
    for f in hdr["fields"]:
        assert f["offset"] == off, f"header field {f['name']} not contiguous"
        off += f["size"]
    assert off == hdr["size"], "header fields do not add up to header.size"
    bits = 0
    for f in d["proto"]["fields"]:
        assert f["bit"] == bits, f"proto field {f['name']} not contiguous"
        bits += f["width"]
    assert bits == 8, "proto fields do not fill one byte"
    values = [o["value"] for o in d["opcodes"]]
    assert values == list(range(len(values))), "opcodes must be 0..n-1"
    names = {o["name"] for o in d["opcodes"]}
    for o in d["opcodes"]:
        assert o["type"] in d["opcode_classes"]["types"]
        assert o["role"] in d["opcode_classes"]["roles"]
        assert o.get("echo", o["name"]) in names
    sv = [s["value"] for s in d["statuses"]]
    assert sv == list(range(32)), "statuses must be exactly 0..31"
    snames = {s["name"] for s in d["statuses"]}
    ev = [e["value"] for e in d["errors"]]
    assert ev == list(range(-1, -1 - len(ev), -1)), "errors must be -1, -2, ..."
    for e in d["errors"]:
        assert e["status"] in snames, e
    lim = d["limits"]
    assert lim["max_frame_len"] == hdr["size"] + lim["max_text_headers_len"] + lim["max_body_len"]


# ---------------------------------------------------------------- C header


def c_constants(d):
    out = []
    w = out.append
    w(f'#define TOFU_WIRE_SPEC_VERSION "{d["spec"]["version"]}"')
    w(f'#define TOFU_WIRE_DESCRIBES "{d["spec"]["describes"]}"')
    w("")
    w("/* Binary header: size, and offset/size of each big-endian field. */")
    w(f"#define TOFU_HEADER_SIZE {d['header']['size']}")
    for f in d["header"]["fields"]:
        n = upper(f["name"])
        w(f"#define TOFU_HDR_{n}_OFFSET {f['offset']}")
        w(f"#define TOFU_HDR_{n}_SIZE {f['size']}")
    w("")
    w("/* The proto byte: bit position and mask of each field. */")
    for f in d["proto"]["fields"]:
        n = upper(f["name"])
        mask = ((1 << f["width"]) - 1) << f["bit"]
        w(f"#define TOFU_PROTO_{n}_SHIFT {f['bit']}")
        w(f"#define TOFU_PROTO_{n}_MASK 0x{mask:02X}u")
    w("")
    w("/* Opcodes (proto bits 0-3). */")
    w("enum tofu_opcode {")
    for o in d["opcodes"]:
        w(f"\tTOFU_OP_{upper(o['name'])} = {o['value']},")
    w("};")
    w(f"#define TOFU_OPCODE_COUNT {len(d['opcodes'])}")
    w("/* Opcode sets as bit masks (bit n = opcode n), for branch-free checks. */")
    on_wire = sum(1 << o["value"] for o in d["opcodes"] if o["on_wire"])
    w(f"#define TOFU_OPCODES_ON_WIRE 0x{on_wire:04X}u")
    for t in d["opcode_classes"]["types"]:
        m = sum(1 << o["value"] for o in d["opcodes"] if o["type"] == t)
        w(f"#define TOFU_OPCODES_TYPE_{upper(t)} 0x{m:04X}u")
    for r in d["opcode_classes"]["roles"]:
        m = sum(1 << o["value"] for o in d["opcodes"] if o["role"] == r)
        w(f"#define TOFU_OPCODES_ROLE_{upper(r)} 0x{m:04X}u")
    w("")
    w("/* Opcode types and roles. */")
    w("enum tofu_opcode_type {")
    for i, t in enumerate(d["opcode_classes"]["types"]):
        w(f"\tTOFU_TYPE_{upper(t)} = {i},")
    w("};")
    w("enum tofu_opcode_role {")
    for i, r in enumerate(d["opcode_classes"]["roles"]):
        w(f"\tTOFU_ROLE_{upper(r)} = {i},")
    w("};")
    w("")
    w("/* Status byte values: fixed wire numbers. */")
    w("enum tofu_status {")
    for s in d["statuses"]:
        w(f"\tTOFU_STATUS_{upper(s['name'])} = {s['value']},")
    w("};")
    w(f"#define TOFU_STATUS_COUNT {len(d['statuses'])}")
    w("")
    w("/* Codec result classes (negative; >= 0 means bytes consumed / OK). */")
    w("enum tofu_codec_error {")
    for e in d["errors"]:
        w(f"\tTOFU_E_{upper(e['name'])} = {e['value']}, /* {e['doc']} */")
    w("};")
    w(f"#define TOFU_ERROR_COUNT {len(d['errors'])}")
    w("")
    w("/* Limits. */")
    for k, v in d["limits"].items():
        if isinstance(v, str):
            w(f'#define TOFU_{upper(k)} "{v}"')
        else:
            w(f"#define TOFU_{upper(k)} {v}")
    w("")
    w("/* Reserved text headers and address syntax. */")
    for k, v in d["reserved_headers"].items():
        w(f'#define TOFU_HEADER_{upper(k)} "{v}"')
    for k, v in d["address"].items():
        w(f'#define TOFU_ADDRESS_{upper(k)} "{v}"')
    return "\n".join(out) + "\n"


def render_codec_h(d, current):
    b = current.index(MARK_C_BEGIN) + len(MARK_C_BEGIN)
    e = current.index(MARK_C_END)
    return current[:b] + "\n" + c_constants(d) + current[e:]


# ---------------------------------------------------------------- C tables


def render_wire_gen_c(d):
    out = []
    w = out.append
    w("/* GENERATED by spec/gen/gen.py from spec/tofu-wire.toml; do not edit. */")
    w('#include "tofu/codec.h"')
    w("")
    w("static const char *const status_names[TOFU_STATUS_COUNT] = {")
    for s in d["statuses"]:
        w(f'\t"{s["name"]}",')
    w("};")
    w("")
    w("static const char *const opcode_names[TOFU_OPCODE_COUNT] = {")
    for o in d["opcodes"]:
        w(f'\t"{o["name"]}",')
    w("};")
    w("")
    w("static const signed char opcode_types[TOFU_OPCODE_COUNT] = {")
    for o in d["opcodes"]:
        w(f"\tTOFU_TYPE_{upper(o['type'])},")
    w("};")
    w("")
    w("static const signed char opcode_roles[TOFU_OPCODE_COUNT] = {")
    for o in d["opcodes"]:
        w(f"\tTOFU_ROLE_{upper(o['role'])},")
    w("};")
    w("")
    w("static const signed char opcode_echo[TOFU_OPCODE_COUNT] = {")
    for o in d["opcodes"]:
        w(f"\t{('TOFU_OP_' + upper(o['echo'])) if 'echo' in o else '-1'},")
    w("};")
    w("")
    w("static const unsigned char opcode_on_wire[TOFU_OPCODE_COUNT] = {")
    for o in d["opcodes"]:
        w(f"\t{1 if o['on_wire'] else 0},")
    w("};")
    w("")
    w("/* Indexed by -err - 1. */")
    w("static const char *const error_names[TOFU_ERROR_COUNT] = {")
    for e in d["errors"]:
        w(f'\t"{e["name"]}",')
    w("};")
    w("")
    w("static const unsigned char error_statuses[TOFU_ERROR_COUNT] = {")
    for e in d["errors"]:
        w(f"\tTOFU_STATUS_{upper(e['status'])},")
    w("};")
    w("")
    w(
        """const char *tofu_status_name(int status)
{
	return (status >= 0 && status < TOFU_STATUS_COUNT) ? status_names[status] : NULL;
}

const char *tofu_opcode_name(int opcode)
{
	return (opcode >= 0 && opcode < TOFU_OPCODE_COUNT) ? opcode_names[opcode] : NULL;
}

int tofu_opcode_type(int opcode)
{
	return (opcode >= 0 && opcode < TOFU_OPCODE_COUNT) ? opcode_types[opcode] : -1;
}

int tofu_opcode_role(int opcode)
{
	return (opcode >= 0 && opcode < TOFU_OPCODE_COUNT) ? opcode_roles[opcode] : -1;
}

int tofu_opcode_echo(int opcode)
{
	return (opcode >= 0 && opcode < TOFU_OPCODE_COUNT) ? opcode_echo[opcode] : -1;
}

int tofu_opcode_on_wire(int opcode)
{
	return (opcode >= 0 && opcode < TOFU_OPCODE_COUNT) ? opcode_on_wire[opcode] : 0;
}

const char *tofu_error_name(int err)
{
	return (err < 0 && err >= -TOFU_ERROR_COUNT) ? error_names[-err - 1] : NULL;
}

int tofu_error_status(int err)
{
	if (err >= 0)
		return TOFU_STATUS_SUCCESS;
	return (err >= -TOFU_ERROR_COUNT) ? error_statuses[-err - 1] : TOFU_STATUS_UNKNOWN_ERROR;
}"""
    )
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- Python


def render_python(d):
    out = []
    w = out.append
    w('"""GENERATED by spec/gen/gen.py from spec/tofu-wire.toml; do not edit."""')
    w("")
    w(f"SPEC_VERSION = {d['spec']['version']!r}")
    w(f"DESCRIBES = {d['spec']['describes']!r}")
    w(f"HEADER_SIZE = {d['header']['size']}")
    w("# (name, offset, size) of each big-endian header field, in wire order")
    w("HEADER_FIELDS = (")
    for f in d["header"]["fields"]:
        w(f"    ({f['name']!r}, {f['offset']}, {f['size']}),")
    w(")")
    w("# (name, bit, width) of each proto field")
    w("PROTO_FIELDS = (")
    for f in d["proto"]["fields"]:
        w(f"    ({f['name']!r}, {f['bit']}, {f['width']}),")
    w(")")
    for f in d["proto"]["fields"]:
        mask = ((1 << f["width"]) - 1) << f["bit"]
        w(f"PROTO_{upper(f['name'])}_MASK = 0x{mask:02X}")
    w("")
    w("OPCODE_TYPES = " + repr(tuple(d["opcode_classes"]["types"])))
    w("OPCODE_ROLES = " + repr(tuple(d["opcode_classes"]["roles"])))
    w("# value -> (name, type, role, on_wire, echo name or None)")
    w("OPCODES = {")
    for o in d["opcodes"]:
        w(
            f"    {o['value']}: ({o['name']!r}, {o['type']!r}, {o['role']!r}, "
            f"{o['on_wire']!r}, {o.get('echo')!r}),"
        )
    w("}")
    for o in d["opcodes"]:
        w(f"OP_{upper(o['name'])} = {o['value']}")
    w("")
    w("STATUS_NAMES = {")
    for s in d["statuses"]:
        w(f"    {s['value']}: {s['name']!r},")
    w("}")
    for s in d["statuses"]:
        w(f"STATUS_{upper(s['name'])} = {s['value']}")
    w("")
    w("# error class value -> (name, status number)")
    smap = {s["name"]: s["value"] for s in d["statuses"]}
    w("ERRORS = {")
    for e in d["errors"]:
        w(f"    {e['value']}: ({e['name']!r}, {smap[e['status']]}),")
    w("}")
    for e in d["errors"]:
        w(f"E_{upper(e['name'])} = {e['value']}")
    w("")
    for k, v in d["limits"].items():
        w(f"{upper(k)} = {v!r}")
    for k, v in d["reserved_headers"].items():
        w(f"HEADER_{upper(k)} = {v.encode()!r}")
    for k, v in d["address"].items():
        w(f"ADDRESS_{upper(k)} = {v.encode()!r}")
    w(f"LINE_END = {d['text_headers']['line_end'].encode()!r}")
    w(f"SEPARATOR = {d['text_headers']['separator'].encode()!r}")
    w(f"VALUE_TRIM = {bytes(d['text_headers']['value_trim'])!r}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- Markdown


def md_tables(d):
    t = {}
    rows = ["| Offset | Size | Field | Meaning |", "|---|---|---|---|"]
    for f in d["header"]["fields"]:
        rows.append(f"| {f['offset']} | {f['size']} | `{f['name']}` | {f['doc']} |")
    t["header"] = rows
    rows = ["| Bits | Field | Mask | Meaning |", "|---|---|---|---|"]
    for f in d["proto"]["fields"]:
        lo, hi = f["bit"], f["bit"] + f["width"] - 1
        bits = f"{lo}" if lo == hi else f"{lo}-{hi}"
        mask = ((1 << f["width"]) - 1) << f["bit"]
        rows.append(f"| {bits} | `{f['name']}` | 0x{mask:02X} | {f['doc']} |")
    t["proto"] = rows
    rows = ["| Value | Opcode | Type | Role | On the wire | Echo |", "|---|---|---|---|---|---|"]
    for o in d["opcodes"]:
        wire = "yes" if o["on_wire"] else "never (local only)"
        if "doc" in o:
            wire += f"; {o['doc']}"
        rows.append(
            f"| {o['value']} | {o['name']} | {o['type']} | {o['role']} | {wire} | {o.get('echo', '-')} |"
        )
    rows.append("| 10-15 | (invalid) | - | - | never | - |")
    t["opcodes"] = rows
    rows = ["| Value | Name | Zig spelling |", "|---|---|---|"]
    for s in d["statuses"]:
        rows.append(f"| {s['value']} | `{s['name']}` | {s.get('zig_name', '')} |")
    t["statuses"] = rows
    rows = ["| Limit | Value |", "|---|---|"]
    for k, v in d["limits"].items():
        rows.append(f"| `{k}` | {v} |")
    t["limits"] = rows
    rows = ["| Value | Class | Status reported | Meaning |", "|---|---|---|---|"]
    for e in d["errors"]:
        rows.append(f"| {e['value']} | `{e['name']}` | `{e['status']}` | {e['doc']} |")
    t["errors"] = rows
    return {k: "\n".join(v) + "\n" for k, v in t.items()}


MD_RE = re.compile(r"(<!-- GENERATED:(\w+) -->\n)(.*?)(<!-- END GENERATED -->)", re.S)


def render_md(d, current):
    tables = md_tables(d)
    seen = set()

    def sub(m):
        name = m.group(2)
        if name not in tables:
            raise SystemExit(f"spec/tofu-wire.md: unknown generated table {name!r}")
        seen.add(name)
        return m.group(1) + tables[name] + m.group(4)

    new = MD_RE.sub(sub, current)
    missing = set(tables) - seen
    if missing:
        raise SystemExit(f"spec/tofu-wire.md lacks generated tables: {sorted(missing)}")
    return new


# ---------------------------------------------------------------- requirements

REQ_RE = re.compile(r"^- \*\*(WIRE-\d+(?:\.\d+)+)\*\* \((MUST|SHOULD|MAY)(?: NOT)?\) (.+)$")


def render_requirements(md_text):
    """Every `- **WIRE-x.y** (LEVEL) text` line of the prose, in order."""
    import json

    reqs, seen = [], set()
    section = ""
    lines = md_text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        m = REQ_RE.match(line)
        if m:
            text = m.group(3)
            # a requirement may continue on indented lines
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                text += " " + lines[i].strip()
            rid = m.group(1)
            if rid in seen:
                raise SystemExit(f"spec/tofu-wire.md: duplicate requirement id {rid}")
            seen.add(rid)
            level = line.split("(", 1)[1].split(")", 1)[0]
            reqs.append({"id": rid, "level": level, "section": section, "text": text})
        i += 1
    return json.dumps({"requirements": reqs}, indent=1) + "\n"


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    d = load(root)

    def rd(p):
        with open(os.path.join(root, p), encoding="utf-8") as f:
            return f.read()

    outputs = {
        "codec/include/tofu/codec.h": render_codec_h(d, rd("codec/include/tofu/codec.h")),
        "codec/src/wire_gen.c": render_wire_gen_c(d),
        "conformance/tofu_conformance/wire.py": render_python(d),
    }
    md = "spec/tofu-wire.md"
    if os.path.exists(os.path.join(root, md)):
        outputs[md] = render_md(d, rd(md))
        outputs["conformance/tofu_conformance/requirements.json"] = render_requirements(outputs[md])

    drift = []
    for rel, text in outputs.items():
        path = os.path.join(root, rel)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        drift.append(rel)
        if not args.check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if args.check and drift:
        for rel in drift:
            print(f"regen-check: {rel} differs from what spec/gen/gen.py generates", file=sys.stderr)
        return 1
    for rel in drift:
        print(f"gen: wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
