import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, parsePyJson, stringifyPyJson } from "../src/index.js";
import { arrayElementSpans } from "../src/pyjson.js";

const decoder = new TextDecoder();

function record(name: string, parameters: Record<string, unknown> = {}) {
  const created = "2024-05-01T10:00:00";
  return {
    artifacts: [],
    author: "ada",
    created_at: created,
    dependencies: [],
    last_updated: created,
    last_updated_by: "ada",
    metrics: {},
    name,
    parameters,
    short_slug: name,
    slug: `${name}-20240501100000`,
    tags: [],
    tests: [],
  };
}

const text = (r: unknown) => stringifyPyJson(r, { indent: 4, sortKeys: true, level: 1 });
// A nested list whose lines look exactly like the separator between experiments ("\n    },\n    {").
const nestedLikeMarker = (t: string) =>
  t.replace('"grid": [\n                {\n                    "a": 1\n                },\n                {', '"grid": [{"a": 1\n    },\n    {');

describe("unchanged experiments are written back from the parser's positions", () => {
  it("a nested list laid out like the separator never splits an experiment (the saved file parses)", async () => {
    const storage = new MemoryStorage();
    const first = nestedLikeMarker(text(record("first", { grid: [{ a: 1 }, { a: 2 }] })));
    expect(first).toContain("\n    },\n    {");
    // The last two experiments are separated compactly, so a split on the marker finds three parts for three experiments.
    const file = `[\n    ${first},\n    ${text(record("second"))}, ${text(record("third"))}\n]`;
    expect(parsePyJson(file)).toHaveLength(3);
    await storage.write("project.json", file);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "ada" });
    project.get("second").logMetric("m", 1);
    await project.save();
    const saved = decoder.decode(await storage.read("project.json"));
    const records = parsePyJson(saved) as Array<{ name: string; parameters: { grid?: unknown }; metrics: { m?: number } }>;
    expect(records.map((r) => r.name)).toEqual(["first", "second", "third"]);
    expect(records[0]?.parameters.grid).toEqual([{ a: 1 }, { a: 2 }]);
    expect(records[1]?.metrics.m).toBe(1);
  });

  it("an untouched experiment with such a nested list keeps its bytes when another one changes", async () => {
    const storage = new MemoryStorage();
    const first = nestedLikeMarker(text(record("first", { grid: [{ a: 1 }, { a: 2 }] })));
    await storage.write("project.json", `[\n    ${first},\n    ${text(record("second"))}\n]`);
    const project = await Project.open("project.json", { storage, author: "ada" });
    await project.log("third", (e) => e.logMetric("m", 1));
    await project.save();
    const saved = decoder.decode(await storage.read("project.json"));
    expect(saved.startsWith(`[\n    ${first},\n    ${text(record("second"))},\n    {`)).toBe(true);
    expect(parsePyJson(saved)).toHaveLength(3);
  });
});

describe("arrayElementSpans", () => {
  it("finds each element, whatever strings and nesting hold", () => {
    const t = '[ {"a": "}, {\\"x\\\\"}, [1, {"b": [2]}] , {}]  ';
    const spans = arrayElementSpans(t);
    expect(spans?.map(([s, e]) => t.slice(s, e))).toEqual(['{"a": "}, {\\"x\\\\"}', '[1, {"b": [2]}]', "{}"]);
    expect(arrayElementSpans("[]")).toEqual([]);
  });

  it("refuses text that is not one whole array", () => {
    for (const bad of ["", "{}", "[{}", "[{}]]", "[{}] x", "[{} {}]", "[{},]", '[{"a": "}]', "[{}}", "[,{}]", '["s"]']) {
      expect(arrayElementSpans(bad), bad).toBeUndefined();
    }
  });
});
