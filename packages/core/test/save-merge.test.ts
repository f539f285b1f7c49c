import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, parsePyJson } from "../src/index.js";

const fixed = (s: string) => () => new Date(`${s}Z`);

async function stored(storage: MemoryStorage): Promise<Array<{ slug: string; name: string; metrics: Record<string, number> }>> {
  return parsePyJson(new TextDecoder().decode(await storage.read("project.json"))) as never;
}

describe("save is read-merge-write", () => {
  it("keeps both writers' experiments when two projects save concurrently", async () => {
    const storage = new MemoryStorage();
    const a = await Project.open("project.json", { storage, author: "a" });
    const b = await Project.open("project.json", { storage, author: "b" });
    await a.log("from a", (e) => e.logMetric("x", 1));
    await b.log("from b", (e) => e.logMetric("x", 2));
    await Promise.all([a.save(), b.save()]);
    const names = (await stored(storage)).map((r) => r.name).sort();
    expect(names).toEqual(["from a", "from b"]);
  });

  it("keeps two different experiments that share a slug (same name, same second)", async () => {
    const storage = new MemoryStorage();
    const clock = fixed("2024-05-01T10:00:00");
    const a = await Project.open("project.json", { storage, author: "a", clock });
    const b = await Project.open("project.json", { storage, author: "b", clock });
    await a.log("train", (e) => e.logMetric("x", 1));
    await b.log("train", (e) => e.logMetric("x", 2));
    await a.save();
    await b.save();
    const records = await stored(storage);
    expect(records.map((r) => r.metrics.x).sort()).toEqual([1, 2]);
    expect(new Set(records.map((r) => r.slug)).size).toBe(1);
  });

  it("does not duplicate an experiment when a save is retried after it was committed", async () => {
    const storage = new MemoryStorage();
    const a = await Project.open("project.json", { storage, author: "a" });
    await a.log("once", (e) => e.logMetric("x", 1));
    // The index write lands but its answer is lost (a dropped connection): the save fails.
    const write = storage.write.bind(storage);
    storage.write = async (key, data, options) => {
      storage.write = write;
      await write(key, data, options);
      throw new Error("connection reset");
    };
    await expect(a.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    // Another writer saves in between, so the retry re-reads and must recognise its own landed experiment.
    const b = await Project.open("project.json", { storage, author: "b" });
    await b.log("other", (e) => e.logMetric("x", 2));
    await b.save();
    await a.save();
    expect((await stored(storage)).map((r) => r.name)).toEqual(["once", "other"]);
  });

  it("a later edit in w+ wins over the stored copy and keeps artifacts only the other copy has", async () => {
    const storage = new MemoryStorage();
    const first = await Project.open("project.json", { storage, author: "a", clock: fixed("2024-05-01T10:00:00") });
    await first.log("shared", (e) => e.logArtifact("one", { a: 1 }, { handler: "json" }));
    await first.save();
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "editor", clock: fixed("2024-05-01T11:00:00") });
    const other = await Project.open("project.json", { storage, mode: "w+", author: "other", clock: fixed("2024-05-01T10:30:00") });
    other.get("shared").logArtifact("two", { b: 2 }, { handler: "json" });
    await other.save();
    editor.get("shared").logMetric("m", 5);
    await editor.save();
    const [record] = (await stored(storage)) as unknown as Array<{
      metrics: Record<string, number>;
      artifacts: Array<{ name: string }>;
      last_updated_by: string;
    }>;
    expect(record?.metrics.m).toBe(5);
    expect(record?.last_updated_by).toBe("editor");
    expect(record?.artifacts.map((x) => x.name).sort()).toEqual(["one", "two"]);
  });
});

describe("save reuses the text of experiments nobody changed", () => {
  const record = (name: string, metric: string) =>
    [
      "    {",
      '        "artifacts": [],',
      '        "author": "py",',
      '        "created_at": "2024-01-01T00:00:00",',
      '        "dependencies": [],',
      '        "last_updated": "2024-01-01T00:00:00",',
      '        "last_updated_by": "py",',
      '        "metrics": {',
      `            "m": ${metric}`,
      "        },",
      `        "name": "${name}",`,
      '        "parameters": {},',
      `        "short_slug": "${name}",`,
      `        "slug": "${name}-20240101000000",`,
      '        "tags": [],',
      '        "tests": []',
      "    }",
    ].join("\n");

  it("writes an unchanged experiment back exactly as read, and a changed one afresh", async () => {
    const storage = new MemoryStorage();
    // "1.50" is not how Python spells 1.5: only a verbatim copy keeps it.
    await storage.write("project.json", `[\n${record("a", "1.50")},\n${record("b", "2.50")}\n]`);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "ts", clock: fixed("2024-02-01T00:00:00") });
    project.get("b").logMetric("m", 3);
    await project.log("c", (e) => e.logMetric("m", 4));
    await project.save();
    const text = new TextDecoder().decode(await storage.read("project.json"));
    expect(text).toContain('"m": 1.50');
    expect(text).not.toContain('"m": 2.50');
    expect(text).toContain('"m": 3');
    expect((await stored(storage)).map((r) => r.metrics.m)).toEqual([1.5, 3, 4]);
  });

  it("never writes a stale copy after an experiment changes again", async () => {
    const storage = new MemoryStorage();
    await storage.write("project.json", `[\n${record("a", "1.0")}\n]`);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "ts" });
    project.get("a").logMetric("m", 2);
    await project.save();
    project.get("a").logMetric("m", 5);
    await project.save();
    expect((await stored(storage)).map((r) => r.metrics.m)).toEqual([5]);
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.get("a").metrics.m).toBe(5);
  });
});
