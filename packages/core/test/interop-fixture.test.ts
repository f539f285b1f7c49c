/**
 * Byte-level compatibility with Python lazyscribe 2.2, against the committed fixture written by
 * tooling/python/make_project_fixture.py (regenerate both together). labbook logs the same
 * experiments with the same clock and must write the same bytes.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type ArtifactHandler, defaultHandlers, type Experiment, MemoryStorage, markFloat, Project, parsePyJson } from "../src/index.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/lazyscribe/", import.meta.url));
const decoder = new TextDecoder();

function fixtureText(name: string): string {
  return readFileSync(path.join(FIXTURE, name), "utf8");
}

/** Every artifact file of the fixture, as storage keys relative to the fixture folder. */
function artifactFiles(dir = FIXTURE, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.isDirectory()) return artifactFiles(path.join(dir, d.name), `${prefix}${d.name}/`);
    return prefix === "" ? [] : [`${prefix}${d.name}`];
  });
}

/** A clock the test moves by hand, as the Python script moves lazyscribe's utcnow(). */
function handClock() {
  let now = new Date(0);
  return {
    clock: () => now,
    at: (iso: string) => {
      now = new Date(`${iso}Z`);
    },
  };
}

/** lazyscribe's pickle entries, written by labbook from bytes Python pickled (labbook cannot pickle). */
function pickleBytesHandler(pythonVersion: string): ArtifactHandler<Uint8Array> {
  return {
    alias: "pickle",
    suffix: "pkl",
    binary: true,
    write: (value) => value,
    read: () => Promise.reject(new Error("not used")),
    entryFields: () => ({ python_version: pythonVersion }),
  };
}

/** Remove the two fields labbook adds to artifact entries (sorted keys put them mid-entry, so each line ends in a comma). */
function withoutSizeAndHash(text: string): { text: string; removed: number } {
  const lines = text.split("\n");
  const kept = lines.filter((l) => !/^\s*"(size|sha256)": (\d+|"[0-9a-f]{64}"),$/.test(l));
  return { text: kept.join("\n"), removed: lines.length - kept.length };
}

async function logUpstream(project: Project, at: (iso: string) => void): Promise<Experiment> {
  at("2024-01-01T00:00:00");
  return project.log("feature build", (exp) => {
    exp.logMetric("rows", 1000);
    exp.logParameter("source", "s3://bucket/raw");
  });
}

/** The experiments of make_project_fixture.py, step for step. */
async function logMain(project: Project, at: (iso: string) => void, pickled: Uint8Array, upstream: Experiment): Promise<void> {
  at("2024-01-02T03:04:05");
  await project.log("baseline", async (exp) => {
    at("2024-01-02T03:05:00");
    exp.logMetric("accuracy", 1);
    markFloat(exp.metrics, "accuracy"); // Python logged 1.0
    exp.logMetric("epochs", 3);
    exp.logMetric("lr", 1e-5);
    exp.logMetric("big", 1e16);
    exp.logMetric("loss", Number.NaN);
    exp.logMetric("ceiling", Number.POSITIVE_INFINITY);
    exp.logMetric("floor", Number.NEGATIVE_INFINITY);
    exp.logMetric("auc", 0.9123);
    const opts = { momentum: 0.9, nesterov: true, schedule: null, scale: 2 };
    markFloat(opts, "scale");
    exp.logParameter("model", { name: "resnet", layers: [64, 32, 16], dropout: 0.5, opts });
    exp.logParameter("seed", 42);
    exp.logParameter("learning rate", 0.001);
    exp.tag("baseline", "gpu");
    const weights = [1, 0.25, -3];
    markFloat(weights, 0);
    exp.logArtifact("features", { columns: ["age", "income", "zip"], weights, meta: { rows: 1000, missing: Number.NaN } }, { handler: "json" });
    exp.logArtifact(
      "train config",
      { optimizer: "adam", betas: [0.9, 0.999], warmup: { steps: 500, ratio: 1e-5 } },
      { handler: "json", fname: "configs/train.json", writerOptions: { indent: 2 } },
    );
    at("2024-01-02T03:06:00");
    await exp.logTest("holdout", { description: "20% held out, stratified" }, (test) => {
      test.logMetric("accuracy", 0.875);
      test.logMetric("n", 200);
      test.logParameter("split", { kind: "stratified", ratio: 0.2 });
      test.logArtifact(
        "confusion",
        [
          [90, 10],
          [15, 85],
        ],
        { handler: "json" },
      );
    });
    at("2024-01-02T03:07:00");
    await exp.logTest("edge cases 🧪", {}, (test) => {
      test.logMetric("recall", 0.5);
      test.logArtifact("errors", { ids: [3, 17], note: "naïve → ✓" }, { handler: "json", fname: "details/errors.json" });
    });
  });

  at("2024-02-03T04:05:06");
  await project.log("Modèle café ☕ 🚀", (exp) => {
    at("2024-02-03T04:10:00");
    exp.logMetric("précision", 0.75);
    exp.logMetric("📈 gain", 2.5);
    exp.logParameter("langue", "français");
    exp.logParameter("emoji", "🚀");
    exp.logParameter("nested", { ключ: "значение", deep: { list: [1, 2.5, null, "x"] } });
    exp.tag("café", "🔥");
    exp.addDependency(upstream); // same storage: recorded as "upstream.json|<slug>", as Python wrote it
    exp.logArtifact("model", pickled, { handler: "pickle" });
    exp.logArtifact("résumé", { texte: "été 🌞", score: 1.5 }, { handler: "json" });
  });

  at("2024-03-04T05:06:07");
  await project.log("baseline", async (exp) => {
    at("2024-03-04T05:30:00");
    exp.logMetric("accuracy", 0.95);
    exp.logParameter("seed", 7);
    exp.tag("draft");
    exp.tag("final", "tuned", { overwrite: true });
    exp.addDependency(upstream); // same storage: recorded as "upstream.json|<slug>", as Python wrote it
    await exp.logTest("holdout", { description: "" }, (test) => test.logMetric("accuracy", 0.9));
  });
}

describe("labbook writes what lazyscribe 2.2 writes", () => {
  const pythonProject = fixtureText("project.json");
  const pickleEntry = (parsePyJson(pythonProject) as Array<{ artifacts: Array<{ handler: string; fname: string; python_version?: string }> }>)
    .flatMap((e) => e.artifacts)
    .find((a) => a.handler === "pickle");
  if (!pickleEntry?.python_version) throw new Error("the fixture has no pickle artifact with a python_version");
  const pickleKey = artifactFiles().find((f) => f.endsWith(`/${pickleEntry.fname}`));
  if (!pickleKey) throw new Error(`the fixture has no file ${pickleEntry.fname}`);
  const pickled = new Uint8Array(readFileSync(path.join(FIXTURE, pickleKey)));

  async function writeWithLabbook(): Promise<MemoryStorage> {
    const storage = new MemoryStorage();
    const { clock, at } = handClock();
    const upstream = await Project.open("upstream.json", { storage, mode: "w", author: "ada", clock });
    const source = await logUpstream(upstream, at);
    await upstream.save();
    const handlers = defaultHandlers().register(pickleBytesHandler(pickleEntry?.python_version ?? ""));
    const project = await Project.open("project.json", { storage, mode: "w", author: "ada", clock, handlers });
    await logMain(project, at, pickled, source);
    await project.save();
    return storage;
  }

  it("project.json is byte for byte Python's, apart from the size and sha256 labbook adds", async () => {
    const storage = await writeWithLabbook();
    const written = decoder.decode(await storage.read("project.json"));
    const { text, removed } = withoutSizeAndHash(written);
    expect(removed).toBe(2 * 6); // six artifacts, each with size and sha256
    expect(text).toBe(pythonProject);
  });

  it("upstream.json is byte for byte Python's", async () => {
    const storage = await writeWithLabbook();
    expect(decoder.decode(await storage.read("upstream.json"))).toBe(fixtureText("upstream.json"));
  });

  it("every artifact file is byte for byte Python's, at the same path", async () => {
    const storage = await writeWithLabbook();
    const expected = artifactFiles().sort();
    const keys: string[] = [];
    for await (const info of storage.list("")) if (!info.key.endsWith(".json") || info.key.includes("/")) keys.push(info.key);
    expect(keys.sort()).toEqual(expected);
    for (const key of expected) {
      expect(Buffer.from(await storage.read(key)).equals(readFileSync(path.join(FIXTURE, key))), key).toBe(true);
    }
  });
});
