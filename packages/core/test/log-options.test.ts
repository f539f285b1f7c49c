import { describe, expect, it } from "vitest";
import { type LogArtifactOptions, MemoryStorage, Project } from "../src/index.js";

const clock = () => new Date("2024-05-01T10:00:00Z");
const decoder = new TextDecoder();

async function open(storage = new MemoryStorage()) {
  return Project.open("project.json", { storage, author: "ada", clock });
}

describe("logArtifact options", () => {
  it("passes writerOptions to the handler's writer", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    await project.log("train", (e) =>
      e.logArtifact("config", { lr: 0.1, layers: [8] }, { handler: "json", fname: "config.json", writerOptions: { indent: 2 } }),
    );
    await project.save();
    expect(decoder.decode(await storage.read("train-20240501100000/config.json"))).toBe('{\n  "lr": 0.1,\n  "layers": [\n    8\n  ]\n}');
  });

  it("refuses an unknown option from an untyped caller (a misspelt overwrite, a writer option outside writerOptions), and logs nothing", async () => {
    const project = await open();
    for (const options of [
      { handler: "json", overwirte: true },
      { handler: "json", indent: 2 },
    ]) {
      const error = await project.log("train", (e) => e.logArtifact("model", { v: 1 }, options as unknown as LogArtifactOptions)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ARTIFACT_LOG" });
      expect(String((error as Error).message)).toContain(`"${Object.keys(options)[1]}"`);
      expect(String((error as Error).message)).toContain("writerOptions");
    }
    expect(project.size).toBe(0);
  });

  it("are named fields in the types too (core's typecheck covers this file: an unused @ts-expect-error fails it)", async () => {
    const project = await open();
    const error = await project
      .log("train", (e) => {
        // @ts-expect-error a misspelt option does not compile
        e.logArtifact("model", 1, { handler: "json", overwirte: true });
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ARTIFACT_LOG" });
    // @ts-expect-error writer options go in writerOptions
    const loose: LogArtifactOptions = { handler: "json", indent: 2 };
    expect(loose.handler).toBe("json");
  });

  it("refuses writerOptions that are not an object", async () => {
    const project = await open();
    for (const writerOptions of [2, "indent", [2], null]) {
      const options = { handler: "json", writerOptions } as unknown as LogArtifactOptions;
      await expect(project.log("train", (e) => e.logArtifact("model", 1, options))).rejects.toMatchObject({ code: "ARTIFACT_LOG" });
    }
  });

  it("takes undefined for every optional field (exactOptionalPropertyTypes callers forwarding their own options)", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock, mode: undefined, maxRetries: undefined, registry: undefined });
    const forwarded: { fname?: string | undefined; overwrite?: boolean | undefined } = {};
    await project.log("train", (e) =>
      e.logArtifact("model", { v: 1 }, { handler: "json", fname: forwarded.fname, overwrite: forwarded.overwrite, writerOptions: undefined }),
    );
    await project.save();
    const [entry] = project.get("train").artifacts;
    expect(entry?.fname).toBe("model-20240501100000.json");
    expect(decoder.decode(await storage.read(`train-20240501100000/${entry?.fname}`))).toBe('{"v": 1}');
  });
});

describe("toRecord", () => {
  it("is the experiment's stored record, live, with lazyscribe's field names", async () => {
    const project = await open();
    const exp = await project.log("train", async (e) => {
      e.logMetric("auc", 0.5);
      await e.logTest("holdout", { description: "held out" }, (t) => t.logMetric("auc", 0.4));
    });
    const record = exp.toRecord();
    expect(record).toMatchObject({ name: "train", slug: "train-20240501100000", metrics: { auc: 0.5 }, author: "ada" });
    expect(exp.tests[0]?.toRecord()).toMatchObject({ name: "holdout", description: "held out", metrics: { auc: 0.4 } });
    exp.logMetric("auc", 0.75);
    expect(exp.toRecord().metrics.auc).toBe(0.75);
    expect(JSON.parse(JSON.stringify(exp))).toEqual(JSON.parse(JSON.stringify(exp.toRecord())));
  });
});
