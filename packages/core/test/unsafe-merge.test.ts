import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, stringifyPyJson } from "../src/index.js";
import { caught } from "./helpers.js";

function record(slug: string, artifacts: Array<Record<string, unknown>> = []) {
  const created = "2024-05-01T10:00:00";
  return {
    artifacts,
    author: "eve",
    created_at: created,
    dependencies: [],
    last_updated: created,
    last_updated_by: "eve",
    metrics: {},
    name: "x",
    parameters: {},
    short_slug: "x",
    slug,
    tags: [],
    tests: [],
  };
}

const artifact = (fname: string) => ({ created_at: "2024-05-01T10:00:00", expiry: null, fname, handler: "json", name: "a", version: 0 });

async function storedProject(storage: MemoryStorage, key: string, records: unknown[]): Promise<Project> {
  await storage.write(key, stringifyPyJson(records, { indent: 4, sortKeys: true }));
  return Project.open(key, { storage, mode: "r" });
}

describe("merge refuses entries that logging would refuse", () => {
  const cases: Array<[string, unknown, string]> = [
    ["a slug that leaves the project folder", record("../OUT"), "UNSAFE_PATH"],
    ["a slug with a folder in it", record("a/b"), "UNSAFE_PATH"],
    ["an artifact file name that leaves its folder", record("x-20240501100000", [artifact("../../escape.json")]), "UNSAFE_PATH"],
    ["an artifact file name kept for lock files", record("x-20240501100000", [artifact("project.json.lock")]), "ARTIFACT_LOG"],
  ];
  for (const [what, hostile, code] of cases) {
    it(`${what}: ${code} naming the project and experiment, nothing written`, async () => {
      const storage = new MemoryStorage();
      const target = await Project.open("project.json", { storage, author: "ada" });
      await target.log("mine", () => {});
      await target.save();
      const before = await storage.read("project.json");
      const other = await storedProject(storage, "other/project.json", [hostile]);
      const error = await caught(() => target.merge(other));
      expect(error.code).toBe(code);
      expect(error.message).toContain(other.path);
      expect(await storage.read("project.json")).toEqual(before);
      const keys: string[] = [];
      for await (const info of storage.list("")) keys.push(info.key);
      expect(keys.sort()).toEqual(["other/project.json", "project.json"]);
    });
  }
});
