#!/usr/bin/env python3
"""Turns the Zig text-header iterator vectors (JSON) into the line format
fuzz/ref_selftest.c reads: <tcId> <input hex> <n> <name hex> <value hex>...
Empty hex strings are written as '-'."""
import json
import sys


def h(s):
    return s if s else "-"


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    for t in data["tests"]:
        parts = [str(t["tcId"]), h(t["input"]), str(len(t["headers"]))]
        for name, value in t["headers"]:
            parts += [h(name), h(value)]
        print(" ".join(parts))


if __name__ == "__main__":
    main()
