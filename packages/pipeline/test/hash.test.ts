import { readFileSync } from "node:fs";
import { isLabbookError } from "@labbook/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { aggregateHash, canonicalParameters, hashAs, hashRepresentation, notHashed, parameterHash, sha256 } from "../src/index.js";

const docs = readFileSync(new URL("../../../docs/pipeline.md", import.meta.url), "utf8");

function tableRows(): Array<{ literal: string; canonical: string; prefix: string }> {
  const block = docs.split("<!-- hash-table:start -->")[1]?.split("<!-- hash-table:end -->")[0] ?? "";
  return block
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = [...line.matchAll(/`([^`]*)`/g)].map((m) => m[1] as string);
      return { literal: cells[0] as string, canonical: cells[1] as string, prefix: cells[2] as string };
    });
}

describe("parameter hash", () => {
  const rows = tableRows();
  it("the docs table has its examples", () => expect(rows.length).toBeGreaterThanOrEqual(12));
  it.each(rows)("docs row $literal", ({ literal, canonical, prefix }) => {
    const values = Function(`return (${literal})`)() as Record<string, unknown>;
    expect(canonicalParameters(values)).toBe(canonical);
    expect(parameterHash(values)).toBe(sha256(canonical));
    expect(parameterHash(values).startsWith(prefix)).toBe(true);
  });

  it("is a full sha256 hex digest", () => expect(parameterHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/));

  it("does not depend on key order at any depth", () => {
    const a = { name: "x", b: { d: [1, { f: 1, e: 2 }], c: "z" }, a: true };
    const b = { a: true, b: { c: "z", d: [1, { e: 2, f: 1 }] }, name: "y" };
    expect(parameterHash(a)).toBe(parameterHash(b));
  });

  it("changes with any nested value", () => {
    expect(parameterHash({ opt: { beta: [0.9, 0.99] } })).not.toBe(parameterHash({ opt: { beta: [0.9, 0.999] } }));
    expect(parameterHash({ x: 1 })).not.toBe(parameterHash({ x: "1" }));
    expect(parameterHash({ x: null })).not.toBe(parameterHash({}));
  });

  it("leaves out fields marked notHashed, at any depth and behind wrappers", () => {
    const schema = z.object({
      lr: z.number(),
      workers: notHashed(z.number()).default(4),
      log: z.object({ level: notHashed(z.string()), keep: z.boolean() }).optional(),
    });
    const a = schema.parse({ lr: 0.1, workers: 8, log: { level: "debug", keep: true } });
    const b = schema.parse({ lr: 0.1, workers: 1, log: { level: "info", keep: true } });
    expect(canonicalParameters(a, schema)).toBe('{"log":{"keep":true},"lr":0.1}');
    expect(parameterHash(a, schema)).toBe(parameterHash(b, schema));
    expect(parameterHash({ ...a, lr: 0.2 }, schema)).not.toBe(parameterHash(a, schema));
    // Without the schema the marks are unknown: every field counts.
    expect(parameterHash(a)).not.toBe(parameterHash(b));
  });

  it("uses a field's own representation (schema mark, array elements, value method)", () => {
    class Net {
      constructor(
        readonly layers: number[],
        readonly id: number,
      ) {}
    }
    const schema = z.object({ nets: z.array(hashAs(z.instanceof(Net), (n) => ({ layers: n.layers }))) });
    const a = { nets: [new Net([4, 2], 1)] };
    const b = { nets: [new Net([4, 2], 2)] };
    expect(canonicalParameters(a, schema)).toBe('{"nets":[{"layers":[4,2]}]}');
    expect(parameterHash(a, schema)).toBe(parameterHash(b, schema));
    const own = { [hashRepresentation]: () => "v1", cache: new Map() };
    expect(canonicalParameters({ thing: own })).toBe('{"thing":"v1"}');
  });

  it("refuses values without a canonical form, naming the field", () => {
    for (const bad of [{ m: { inner: new Map() } }, { f: () => 1 }, { d: new Date(Number.NaN) }]) {
      try {
        parameterHash(bad);
        expect.unreachable();
      } catch (error) {
        expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
        expect((error as Error).message).toMatch(/params\.(m\.inner|f|d)/);
      }
    }
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => parameterHash(loop)).toThrow(/refers to itself/);
  });

  it("gives aggregates a hash of the active hash and the sorted input hashes", () => {
    const h = aggregateHash("a", ["c", "b"]);
    expect(h).toBe(aggregateHash("a", ["b", "c"]));
    expect(h).toBe(sha256('["a",["b","c"]]'));
    expect(h).not.toBe(aggregateHash("a", ["b"]));
    expect(h).not.toBe(aggregateHash("z", ["b", "c"]));
  });
});
