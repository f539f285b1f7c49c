import { describe, expect, it } from "vitest";
import { parseDate, toDate } from "../src/dates.js";
import { ERROR_CODES, isLabbookError, LabbookError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import { Project } from "../src/project.js";
import { stringifyPyJson } from "../src/pyjson.js";
import { assertSafeKey } from "../src/storage.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const FILE = "project.json";

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    artifacts: [],
    author: "py",
    created_at: "2024-01-01T00:00:00",
    dependencies: [],
    last_updated: "2024-01-01T00:00:00",
    last_updated_by: "py",
    metrics: {},
    name: "x",
    parameters: {},
    short_slug: "x",
    slug: "x-20240101000000",
    tags: [],
    tests: [],
    ...overrides,
  };
}

describe("INVALID_FORMAT names the file and the field and leaves the file untouched", () => {
  const valid = stringifyPyJson([record()], { indent: 4, sortKeys: true });
  it.each([
    ["truncated", valid.slice(0, valid.length - 20), /line \d+, column \d+/],
    ["not JSON", "{{{", /line 1, column 2/],
    ["a metric that is a string", stringifyPyJson([record({ metrics: { auc: "high" } })]), /\[0\]\.metrics\.auc/],
    ["a missing field", stringifyPyJson([{ ...record(), name: undefined }]).replace(', "name": null', ""), /\[0\]\.name/],
    ["an object instead of a list", stringifyPyJson(record()), /top level/],
    [
      "an artifact without name",
      stringifyPyJson([record({ artifacts: [{ created_at: "x", expiry: null, fname: "a.json", handler: "json", version: 0 }] })]),
      /\[0\]\.artifacts\[0\]\.name/,
    ],
  ])("%s", async (_, text, where) => {
    for (const mode of ["r", "a", "w+"] as const) {
      const storage = new RecordingStorage();
      await storage.inner.write(FILE, text);
      const error = await caught(() => Project.open(FILE, { storage, mode }));
      expect(error.code).toBe("INVALID_FORMAT");
      expect(error.message).toContain(FILE);
      expect(error.message).toMatch(where);
      expect(error.path).toContain(FILE);
      expect(storage.writes).toEqual([]);
      expect(await storage.text(FILE)).toBe(text);
    }
  });
});

describe("other codes core throws", () => {
  it("INVALID_VERSION for a date that is not a naive UTC date", () => {
    for (const bad of ["2024-13-01T00:00:00", "2024-02-30T00:00:00", "yesterday", "0000-01-01T00:00:00", "2024-01-01T25:00:00", "2024-1-01"]) {
      expect(() => parseDate(bad)).toThrowError(expect.objectContaining({ code: "INVALID_VERSION" }));
    }
    expect(() => toDate(new Date(Number.NaN))).toThrowError(expect.objectContaining({ code: "INVALID_VERSION" }));
    expect(parseDate("2024-01-31T12:00:00.250").toISOString()).toBe("2024-01-31T12:00:00.250Z");
  });

  it("CONFLICT from a conditional write, and from save after the retries run out", async () => {
    const memory = new MemoryStorage();
    await memory.write("k", "1");
    expect((await caught(() => memory.write("k", "2", { ifNoneMatch: "*" }))).code).toBe("CONFLICT");
    expect((await caught(() => memory.write("k", "2", { ifMatch: "stale" }))).code).toBe("CONFLICT");

    // Another writer changes the file between every read and write of ours.
    const storage = new RecordingStorage();
    const seed = await Project.open(FILE, { storage, clock: tickingClock() });
    await seed.log("seed", () => {});
    await seed.save();
    const rival = tickingClock("2030-01-01T00:00:00Z");
    const inner = storage.inner;
    const racing = new RecordingStorage(inner);
    racing.failWrite = () => false;
    const original = racing.write.bind(racing);
    racing.write = async (key, data, options) => {
      if (key === FILE && options?.ifMatch !== undefined) {
        const other = await Project.open(FILE, { storage: inner, clock: rival, author: "rival" });
        await other.log("rival", () => {});
        await other.save();
      }
      return original(key, data, options);
    };
    const project = await Project.open(FILE, { storage: racing, clock: tickingClock("2025-01-01T00:00:00Z"), maxRetries: 2 });
    await project.log("mine", () => {});
    const error = await caught(() => project.save());
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("3 attempts");
    const names = (JSON.parse((await storage.text(FILE)) as string) as Array<{ name: string }>).map((r) => r.name);
    expect(names).not.toContain("mine");
    expect(names.filter((n) => n === "rival")).toHaveLength(3);
  });

  it("UNSUPPORTED when the storage cannot do conditional writes", async () => {
    const storage = new RecordingStorage(new MemoryStorage(), { conditionalWrites: false, locking: false, atomicWrites: true });
    const project = await Project.open(FILE, { storage, clock: tickingClock() });
    await project.log("x", () => {});
    const error = await caught(() => project.save());
    expect(error.code).toBe("UNSUPPORTED");
    expect(storage.writes).toEqual([]);
  });

  it("MISSING_DEPENDENCY names the key and the slug", async () => {
    const storage = new MemoryStorage();
    await storage.write(FILE, stringifyPyJson([record({ dependencies: ["upstream/project.json|feat-20240101000000"] })], { indent: 4, sortKeys: true }));
    const project = await Project.open(FILE, { storage, mode: "r" });
    const error = await caught(() => project.dependenciesOf(project.get("x")));
    expect(error.code).toBe("MISSING_DEPENDENCY");
    expect(error.message).toContain("upstream/project.json");
    expect(error.message).toContain("feat-20240101000000");
  });

  it("UNSAFE_PATH for keys that leave the storage root", () => {
    for (const key of ["", "../x", "/abs", "a//b", "a/./b", "a\\b", "a\0b", "C:/x"]) {
      expect(() => assertSafeKey(key), JSON.stringify(key)).toThrowError(expect.objectContaining({ code: "UNSAFE_PATH" }));
    }
    expect(() => assertSafeKey("a/b.json")).not.toThrow();
  });

  it("NOT_FOUND from storage reads", async () => {
    expect((await caught(() => new MemoryStorage().read("missing"))).code).toBe("NOT_FOUND");
  });

  it("LabbookError carries code, path and cause; isLabbookError narrows by code", () => {
    const cause = new Error("root");
    const error = new LabbookError("STORAGE", "m", { path: "p", cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("LabbookError");
    expect(error.path).toBe("p");
    expect(error.cause).toBe(cause);
    expect(isLabbookError(error)).toBe(true);
    expect(isLabbookError(error, "STORAGE", "CONFLICT")).toBe(true);
    expect(isLabbookError(error, "CONFLICT")).toBe(false);
    expect(isLabbookError(new Error("x"))).toBe(false);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});
