import { describe, expect, it } from "vitest";
import { fastCheckFor } from "../src/fast-checks.js";
import {
  experimentRecordSchema,
  storedProjectFileSchema as projectFileSchema,
  storedRepositoryFileSchema as repositoryFileSchema,
} from "../src/schemas-entry.js";
import { validateFile } from "../src/validate.js";

// The fast structural checks must never accept what the zod schemas reject (and should accept the
// common valid files, or they are useless). Every mutation below is tried on both.
const entry = () => ({
  created_at: "2024-01-02T03:04:05",
  expiry: null,
  fname: "a-20240102030405.json",
  handler: "json",
  name: "a",
  version: 0,
  size: 12,
  sha256: "a".repeat(64),
});
const experiment = () => ({
  artifacts: [entry()],
  author: "ada",
  created_at: "2024-01-02T03:04:05",
  dependencies: ["other|x-20240101000000"],
  last_updated: "2024-01-02T03:04:05",
  last_updated_by: "ada",
  metrics: { auc: 0.9, epoch: 3 },
  name: "x",
  parameters: { lr: "0.1", nested: { a: [1, null] } },
  short_slug: "x",
  slug: "x-20240102030405",
  tags: ["t"],
  tests: [{ artifacts: [entry()], description: null, metrics: { m: 1 }, name: "t", parameters: {} }],
  unknown_field: { kept: true },
});

type Mutation = [string, (e: ReturnType<typeof experiment>) => void];
const bad: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, "1", null, undefined, [], {}, true, Object.create(null), 2 ** 60];
const paths: Mutation[] = [];
for (const value of bad) {
  // biome-ignore lint/suspicious/noExplicitAny: mutations reach into the record freely
  const set = (f: (e: Record<string, any>) => void): void =>
    void paths.push([`${String(JSON.stringify(value))} via ${f.toString().slice(6, 60)}`, f as Mutation[1]]);
  for (const key of Object.keys(experiment())) set((e) => (e[key] = value));
  for (const key of Object.keys(entry())) {
    set((e) => (e.artifacts[0][key] = value));
    set((e) => (e.tests[0].artifacts[0][key] = value));
  }
  for (const key of ["description", "metrics", "name", "parameters", "artifacts"]) set((e) => (e.tests[0][key] = value));
  set((e) => (e.metrics.auc = value));
  set((e) => (e.tests[0].metrics.m = value));
  set((e) => (e.tags[0] = value));
  set((e) => (e.dependencies[0] = value));
  set((e) => (e.parameters.lr = value));
  set((e) => (e.artifacts[0] = value));
}
paths.push(["bad sha", (e) => ((e.artifacts[0] as Record<string, unknown>).sha256 = "A".repeat(64))]);
paths.push(["expiry string", (e) => ((e.artifacts[0] as Record<string, unknown>).expiry = "2025-01-01T00:00:00")]);
paths.push(["no size", (e) => delete (e.artifacts[0] as Partial<ReturnType<typeof entry>>).size]);
// Fields lazyscribe defaults may be missing; the fields it needs may not.
for (const key of Object.keys(experiment())) paths.push([`no ${key}`, (e) => delete (e as Record<string, unknown>)[key]]);
for (const key of Object.keys(entry())) paths.push([`no artifact ${key}`, (e) => delete (e.artifacts[0] as Record<string, unknown>)[key]]);
for (const key of ["artifacts", "description", "metrics", "name", "parameters"])
  paths.push([`no test ${key}`, (e) => delete (e.tests[0] as Record<string, unknown>)[key]]);

describe("fast structural checks agree with the zod schemas", () => {
  const project = fastCheckFor(projectFileSchema);
  const repository = fastCheckFor(repositoryFileSchema);
  const complete = fastCheckFor(experimentRecordSchema);

  it("accept valid files", () => {
    expect(project?.([experiment(), experiment()])).toBe(true);
    expect(repository?.([entry(), entry()])).toBe(true);
    expect(complete?.(experiment())).toBe(true);
  });

  it.each(paths)("never accept what zod rejects: %s", (_, mutate) => {
    const e = experiment();
    mutate(e);
    const file = [experiment(), e];
    if (project?.(file)) expect(projectFileSchema.safeParse(file).success).toBe(true);
    if (complete?.(e)) expect(experimentRecordSchema.safeParse(e).success).toBe(true);
    const entries = [entry(), (e.artifacts as unknown[] | null | undefined)?.[0]];
    if (repository?.(entries)) expect(repositoryFileSchema.safeParse(entries).success).toBe(true);
    // And validateFile still reports zod's precise error on what zod rejects.
    if (!projectFileSchema.safeParse(file).success) expect(() => validateFile(projectFileSchema, file, "p.json")).toThrow(/invalid field at \[1\]/);
  });

  it("reject non-arrays at the top level", () => {
    expect(project?.({})).toBe(false);
    expect(repository?.(null)).toBe(false);
  });
});
