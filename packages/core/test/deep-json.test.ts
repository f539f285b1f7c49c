/**
 * Hostile nesting: arrays and objects nested thousands of levels deep get a typed INVALID_FORMAT on
 * read (both parser paths) and a SAVE_FAILED-ready TypeError on write, never a stack overflow.
 */
import { isLabbookError, MemoryStorage, Project, parsePyJson, stringifyPyJson } from "@labbook/core";
import { describe, expect, it } from "vitest";

const nested = (depth: number, leaf = "1") => `${'{"a": '.repeat(depth)}${leaf}${"}".repeat(depth)}`;
const project = (parameters: string) =>
  `[{"artifacts": [], "author": "a", "created_at": "2024-01-01T00:00:00", "dependencies": [], "last_updated": "2024-01-01T00:00:00", "last_updated_by": "a", "metrics": {}, "name": "deep", "parameters": ${parameters}, "short_slug": "deep", "slug": "deep-20240101000000", "tags": [], "tests": []}]`;

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("nesting depth", () => {
  for (const [label, leaf] of [
    ["the JSON.parse path", "1"],
    ["the spelling-keeping path", "1.0"],
  ] as const) {
    it(`refuses 5000 levels with INVALID_FORMAT on ${label}`, () => {
      const error = caught(() => parsePyJson(nested(5000, leaf), "deep.json"));
      expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
      expect((error as Error).message).toMatch(/^deep\.json .*more than 1000 levels deep/);
    });

    it(`reads 999 levels on ${label}`, () => {
      let value = parsePyJson(nested(999, leaf)) as Record<string, unknown>;
      let depth = 0;
      while (typeof value === "object") {
        value = value.a as Record<string, unknown>;
        depth++;
      }
      expect(depth).toBe(999);
    });
  }

  it("refuses arrays nested 100 000 deep (the slow parser does not recurse past the bound)", () => {
    const error = caught(() => parsePyJson(`${"[".repeat(100_000)}NaN${"]".repeat(100_000)}`, "arr.json"));
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    expect((error as Error).message).toMatch(/at line 1, column 1001/);
  });

  it("a project file with parameters nested 5000 deep fails to open with INVALID_FORMAT", async () => {
    const storage = new MemoryStorage();
    await storage.write("project.json", project(nested(5000)));
    const error = await Project.open("project.json", { storage, mode: "r" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    expect((error as Error).message).toContain("memory://project.json");
  });

  it("logging parameters nested 5000 deep fails to save with a typed error and leaves the stored file alone", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w" });
    await project.log("ok", () => {});
    await project.save();
    const before = new TextDecoder().decode(await storage.read("project.json"));
    let value: unknown = 1;
    for (let i = 0; i < 5000; i++) value = { a: value };
    const again = await Project.open("project.json", { storage, mode: "a" });
    await again.log("deep", (e) => {
      e.logParameter("p", value as never);
    });
    const error = await again.save().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLabbookError(error, "SAVE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/nested more than 1000 levels/);
    expect(new TextDecoder().decode(await storage.read("project.json"))).toBe(before);
  });

  it("writing a value nested 5000 deep throws a TypeError, not a stack overflow", () => {
    let value: unknown = 1;
    for (let i = 0; i < 5000; i++) value = { a: value };
    const error = caught(() => stringifyPyJson(value, { indent: 4 }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/nested more than 1000 levels/);
  });
});
