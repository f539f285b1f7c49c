import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// Relative import (not the package): @labbook-internal/testing depends on @labbook/core.
import { findPython, runPython } from "../../../tooling/testing/src/python.js";
import { LabbookError } from "../src/errors.js";
import { markFloat, parsePyJson, pyFloatRepr, stringifyPyJson } from "../src/pyjson.js";

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "python/pyjson_cases.py");

interface Generated {
  cases: { name: string; sorted: string; plain: string }[];
  floats: [string, string][];
  errors: { text: string; line: number; column: number; msg: string }[];
}

const python = findPython();
// Generated once by Python's json module; every test below compares against these bytes.
const generated: Generated | undefined = python ? (JSON.parse(await runPython(script, [])) as Generated) : undefined;
const cases = generated?.cases ?? [];

describe.skipIf(python === undefined)("byte for byte against Python's json", () => {
  it("has every case", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s: sort_keys=True, indent=4 round trips", (_, c) => {
    expect(stringifyPyJson(parsePyJson(c.sorted), { indent: 4, sortKeys: true })).toBe(c.sorted);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s: plain json.dumps round trips", (_, c) => {
    expect(stringifyPyJson(parsePyJson(c.plain))).toBe(c.plain);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s: the plain text re-written sorted and indented is Python's sorted text", (_, c) => {
    expect(stringifyPyJson(parsePyJson(c.plain), { indent: 4, sortKeys: true })).toBe(c.sorted);
  });

  it("writes every float as Python's repr and json.dumps do", () => {
    const floats = generated?.floats ?? [];
    expect(floats.length).toBeGreaterThan(500);
    const wrong = floats.filter(([repr, dumped]) => {
      const value = Number(repr);
      // A float logged from JavaScript is marked as one (ints and floats are one type there).
      const list = [value];
      markFloat(list, 0);
      const plain = Number.isInteger(value) ? `[${dumped}]` : stringifyPyJson([value]);
      return pyFloatRepr(value) !== repr || stringifyPyJson(list) !== `[${dumped}]` || plain !== `[${dumped}]`;
    });
    expect(wrong).toEqual([]);
  });

  it.each((generated?.errors ?? []).map((e) => [e.text, e] as const))("rejects %j at Python's line and column", (text, e) => {
    let error: unknown;
    try {
      parsePyJson(text, "bad.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LabbookError);
    expect((error as LabbookError).code).toBe("INVALID_FORMAT");
    expect((error as LabbookError).path).toBe("bad.json");
    expect((error as LabbookError).message).toContain("bad.json");
    expect((error as LabbookError).message).toContain(`line ${e.line}, column ${e.column}`);
  });
});

describe("pyjson behaviour", () => {
  it("keeps the spelling of floats that JavaScript would lose", () => {
    const text = "[1.0, -0.0, 1e+16, 1.5e+16, 1e+22, 18446744073709551617, 9007199254740993]";
    const value = parsePyJson(text) as number[];
    expect(value[0]).toBe(1);
    expect(Object.is(value[1], -0)).toBe(true);
    expect(stringifyPyJson(value)).toBe(text);
  });

  it("drops a spelling once the value changes", () => {
    const value = parsePyJson('{"a": 1.0, "b": 2.0}') as Record<string, number>;
    value.a = 3;
    expect(stringifyPyJson(value)).toBe('{"a": 3, "b": 2.0}');
  });

  it("markFloat writes an integer-valued number as a Python float", () => {
    const metrics: Record<string, number> = { loss: 1, n: 1 };
    markFloat(metrics, "loss");
    expect(stringifyPyJson(metrics, { sortKeys: true })).toBe('{"loss": 1.0, "n": 1}');
  });

  it("reads NaN and ±Infinity and writes them back", () => {
    const value = parsePyJson("[NaN, Infinity, -Infinity]") as number[];
    expect(value[0]).toBeNaN();
    expect(value[1]).toBe(Number.POSITIVE_INFINITY);
    expect(value[2]).toBe(Number.NEGATIVE_INFINITY);
    expect(stringifyPyJson(value)).toBe("[NaN, Infinity, -Infinity]");
  });

  it('keeps "__proto__" as an own key and never changes a prototype', () => {
    for (const text of ['{"__proto__": {"polluted": true}}', '{"__proto__": {"polluted": true}, "x": 1.0}']) {
      const value = parsePyJson(text) as Record<string, unknown>;
      expect(Object.hasOwn(value, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect((value as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(stringifyPyJson(value)).toBe(text);
    }
  });

  it("sorts keys by code point, not UTF-16 unit", () => {
    expect(stringifyPyJson({ "\u{1F600}": 1, "\uffff": 2 }, { sortKeys: true })).toBe('{"\\uffff": 2, "\\ud83d\\ude00": 1}');
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => stringifyPyJson({ a: 1n })).toThrow(TypeError);
    expect(() => stringifyPyJson({ a: () => 1 })).toThrow(TypeError);
    expect(() => stringifyPyJson({ a: Symbol("s") })).toThrow(TypeError);
    expect(() => stringifyPyJson({ a: new Map() })).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => stringifyPyJson(cycle)).toThrow(TypeError);
  });

  it("names the file, line and column of a syntax error", () => {
    expect(() => parsePyJson('[\n  {"a": 1,\n  }\n]', "project.json")).toThrow(/project\.json.*line 3, column 3/);
  });
});
