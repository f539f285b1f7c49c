"""JSON texts written by Python's json module, for packages/core/test/pyjson.test.ts.

Prints a JSON list of cases: {"name", "sorted": json.dumps(v, sort_keys=True, indent=4), "plain": json.dumps(v)},
then the float reprs and the error positions Python reports for malformed documents.
"""

import json
import math
import random

FLOATS = [1.0, -0.0, 0.0, 1e16, 1.5e16, 1e-05, 0.0001, 1e22, 123456789.123, 5e-324, 1.7976931348623157e308,
          0.1, 1e15, 9999999999999998.0, 1.2345678901234568e17, 2.5, -1.0, 1e-07, 2.2250738585072014e-308,
          0.30000000000000004, 100.0, 1e21, 1e100, -1.5e-10]
INTS = [0, -1, 7, 2**53 - 1, 2**53, 2**53 + 1, 2**63, -(2**63), 2**64 + 1, 10**30, 12345678901234567890]

CASES = {
    "floats": FLOATS,
    "floats in an object": {f"k{i}": f for i, f in enumerate(FLOATS)},
    "ints": INTS,
    "ints in an object": {f"k{i}": n for i, n in enumerate(INTS)},
    "non-finite": [math.nan, math.inf, -math.inf, {"a": math.nan, "b": math.inf, "c": -math.inf}],
    "unicode": ["h\u00e9llo", "\u4e2d\u6587", "\U0001F600", "astral \U0001F468\u200d\U0001F469 mix", "\u2028\u2029", "\uffff", "\ud800 lone", "\udfff"],
    "control characters": ["\x00\x01\x02\x1f", "\x7f DEL", "\t\n\r\b\f", "quote \" backslash \\ slash /"],
    "key order by code point": {"b": 1, "a": 2, "B": 3, "\u00e9": 4, "\U0001F600": 5, "\uffff": 6, "\ue000": 7,
                                "_": 8, "10": 9, "9": 10, "": 11, "a\U0001F600": 12, "a\uffff": 13},
    "integer-like keys keep their order": {"b": 1, "2": 2, "a": 3, "1": 4, "10": 5},
    "nested empty containers": {"a": {}, "b": [], "c": [[]], "d": [{}], "e": {"f": {"g": []}}, "h": [[], {}, [[{}]]]},
    "empty list": [],
    "empty object": {},
    "scalars": [None, True, False, "", 0, 0.0],
    "proto keys": {"__proto__": {"polluted": True}, "constructor": {"prototype": 1}, "toString": 2},
    "experiment record": [{
        "artifacts": [{"created_at": "2024-01-02T03:04:05", "expiry": None, "fname": "f.json", "handler": "json",
                       "name": "f", "version": 0, "python_version": "3.11"}],
        "author": "ada", "created_at": "2024-01-02T03:04:05", "dependencies": [], "last_updated": "2024-01-02T03:04:05",
        "last_updated_by": "ada", "metrics": {"auc": 0.9, "loss": 1.0, "nan": math.nan, "n": 3},
        "name": "caf\u00e9", "parameters": {"lr": 1e-05, "layers": [64, 64], "big": 2**64, "nested": {"x": 1.0}},
        "short_slug": "cafe", "slug": "cafe-20240102030405", "tags": ["t\u00e4g"],
        "tests": [{"artifacts": [], "description": None, "metrics": {"m": 2.0}, "name": "pop", "parameters": {}}],
    }],
}

rng = random.Random(20240131)
RANDOM_FLOATS = [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(300)]
RANDOM_FLOATS += [float(rng.randint(-(10**17), 10**17)) for _ in range(100)]
RANDOM_FLOATS += [rng.randint(-10**6, 10**6) / 8 for _ in range(100)]

BAD = ["", "[1, 2", "[1, 2,]", '{"a": 1,}', "{'a': 1}", "[01]", "[1.]", "[-]", "[.5]", '["abc', '["a\\x"]',
       '["tab\there"]', "nul", "[nan]", "[+1]", '{"a" 1}', '{"a": 1 "b": 2}', "[1] x", "[\n  1,\n  2\n  }",
       '{\n    "a": [\n        1,\n        tru\n    ]\n}', "[1e]", "[1e+]", "[-Infinityx]", '{1: 2}']


def errors():
    out = []
    for text in BAD:
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            out.append({"text": text, "line": e.lineno, "column": e.colno, "msg": e.msg})
        else:
            raise AssertionError(f"python accepted {text!r}")
    return out


print(json.dumps({
    "cases": [{"name": k, "sorted": json.dumps(v, sort_keys=True, indent=4), "plain": json.dumps(v)} for k, v in CASES.items()],
    "floats": [[repr(f), json.dumps(f)] for f in FLOATS + RANDOM_FLOATS],
    "errors": errors(),
}))
