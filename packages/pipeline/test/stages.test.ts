import { isLabbookError, MemoryStorage, type Storage } from "@labbook/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  aggregate,
  aggregateHash,
  Cache,
  type Cacher,
  cachers,
  defineExperiment,
  type PipelineExperiment,
  PipelineRecord,
  parameterHash,
  plan,
  type RunContext,
  runAggregates,
  runRecord,
  stage,
  validateExperiment,
  validateParameterSets,
} from "../src/index.js";

/** MemoryStorage that counts reads per key, to see what was loaded. */
function countingStorage(): { storage: Storage; reads: Map<string, number>; keys: () => Promise<string[]> } {
  const inner = new MemoryStorage();
  const reads = new Map<string, number>();
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "read") {
        return (key: string, options?: unknown) => {
          reads.set(key, (reads.get(key) ?? 0) + 1);
          return target.read(key, options as never);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Storage;
  const keys = async () => {
    const out: string[] = [];
    for await (const info of inner.list("")) out.push(info.key);
    return out;
  };
  return { storage, reads, keys };
}

const provenance = { labbookVersion: "0.0.0-test", gitCommit: "abc123", gitDirty: false };

function context(storage: Storage, extra: Partial<RunContext> = {}): RunContext {
  return { cache: new Cache(storage, { prefix: "toy" }), provenance, ...extra };
}

const schema = z.object({ n: z.number().int(), scale: z.number() });
type P = z.output<typeof schema>;

function toy(calls: string[]) {
  const load = stage<Record<string, never>, { data: number[] }, P>({ name: "load", outputs: ["data"], cachers: [cachers.json()] }, (_in, r) => {
    calls.push(`load:${r.name}`);
    return { data: Array.from({ length: r.params.n }, (_, i) => i) };
  });
  const scale = stage<{ data: number[] }, { scaled: number[]; note: string }, P>(
    { name: "scale", inputs: ["data"], outputs: ["scaled", "note"], cachers: [cachers.json(), cachers.text()] },
    ({ data }, r) => {
      calls.push(`scale:${r.name}`);
      return { scaled: data.map((x) => x * r.params.scale), note: `x${r.params.scale}` };
    },
  );
  const total = stage<{ scaled: number[] }, { total: number }, P>({ name: "total", inputs: ["scaled"], outputs: ["total"] }, ({ scaled }, r) => {
    calls.push(`total:${r.name}`);
    r.logMetric(
      "total",
      scaled.reduce((a, b) => a + b, 0),
    );
    return { total: scaled.reduce((a, b) => a + b, 0) };
  });
  const compare = aggregate<{ total: number }, { best: string }, P>(
    { name: "compare", inputs: ["total"], outputs: ["best"], cachers: [cachers.json()] },
    (records) => {
      calls.push("compare");
      return { best: [...records].sort((a, b) => b.values.total - a.values.total)[0]?.name ?? "" };
    },
  );
  return defineExperiment({ name: "toy", parameters: schema, stages: [load, scale, total], aggregates: [compare] });
}

const sets = [
  { name: "a", n: 3, scale: 1 },
  { name: "b", n: 4, scale: 2 },
];

async function runAll(experiment: PipelineExperiment, ctx: RunContext, params = sets) {
  const records = [];
  for (const set of params) records.push(await runRecord(experiment, set, ctx));
  const agg = await runAggregates(experiment, records, ctx);
  return { records, agg };
}

describe("stages and the cache", () => {
  it("computes and caches each output with a metadata sidecar, then skips every cached stage", async () => {
    const { storage, reads, keys } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    const ctx = context(storage);
    const first = await runAll(experiment, ctx);
    expect(calls).toEqual(["load:a", "scale:a", "total:a", "load:b", "scale:b", "total:b", "compare"]);
    const ha = parameterHash(sets[0] as P, schema);
    const files = await keys();
    expect(files).toContain(`cache/toy_${ha}_load_data.json`);
    expect(files).toContain(`cache/toy_${ha}_load_data_metadata.json`);
    expect(files).toContain(`cache/toy_${ha}_scale_note.txt`);
    // total has no cacher: nothing of it is stored.
    expect(files.some((f) => f.includes("_total_"))).toBe(false);
    expect(first.records[0]?.stages.map((s) => s.status)).toEqual(["computed", "computed", "uncached"]);
    const meta = JSON.parse(new TextDecoder().decode(await storage.read(`cache/toy_${ha}_scale_scaled_metadata.json`)));
    expect(meta).toMatchObject({
      parameters: { name: "a", n: 3, scale: 1 },
      hash: ha,
      stage: "scale",
      output: "scaled",
      record: "a",
      cacher: "json",
      file: `toy_${ha}_scale_scaled.json`,
      labbook_version: "0.0.0-test",
      git_commit: "abc123",
      git_dirty: false,
    });
    expect(Number.isNaN(Date.parse(meta.created_at))).toBe(false);

    calls.length = 0;
    reads.clear();
    const before = await keys();
    const second = await runAll(experiment, context(storage));
    // total always runs (no cachers); it needs "scaled", so that one is read, and nothing else.
    expect(calls).toEqual(["total:a", "total:b"]);
    expect(second.records[0]?.stages.map((s) => s.status)).toEqual(["cached", "cached", "uncached"]);
    expect([...reads.keys()].sort()).toEqual(
      [`cache/toy_${ha}_scale_scaled.json`, `cache/toy_${parameterHash(sets[1] as P, schema)}_scale_scaled.json`].sort(),
    );
    expect(second.records[0]?.isLoaded("data")).toBe(false);
    expect(second.records[0]?.isLoaded("note")).toBe(false);
    expect(await second.records[0]?.get("note")).toBe("x1");
    expect(second.agg?.stages[0]?.status).toBe("cached");
    expect(await keys()).toEqual(before);
  });

  it("loads nothing when every stage is cached", async () => {
    const { storage, reads } = countingStorage();
    const calls: string[] = [];
    const load = stage({ name: "load", outputs: ["data"], cachers: [cachers.json()] }, () => {
      calls.push("load");
      return { data: [1, 2, 3] };
    });
    const sum = stage({ name: "sum", inputs: ["data"], outputs: ["sum"], cachers: [cachers.json()] }, ({ data }) => {
      calls.push("sum");
      return { sum: (data as number[]).reduce((a, b) => a + b, 0) };
    });
    const experiment = defineExperiment({ name: "lazy", parameters: z.object({}), stages: [load, sum] });
    await runRecord(experiment, { name: "one" }, context(storage));
    reads.clear();
    calls.length = 0;
    const record = await runRecord(experiment, { name: "one" }, context(storage));
    expect(calls).toEqual([]);
    expect(reads.size).toBe(0);
    expect(await record.get("sum")).toBe(6);
    expect(reads.size).toBe(1);
  });

  it("reruns everything with overwrite and only the named stages with overwriteStages", async () => {
    const { storage } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    await runAll(experiment, context(storage));
    calls.length = 0;
    await runAll(experiment, context(storage, { overwriteStages: new Set(["scale"]) }));
    expect(calls).toEqual(["scale:a", "total:a", "scale:b", "total:b"]);
    calls.length = 0;
    await runAll(experiment, context(storage, { overwrite: true }));
    expect(calls).toEqual(["load:a", "scale:a", "total:a", "load:b", "scale:b", "total:b", "compare"]);
  });

  it("reruns only the changed parameter set and the aggregate when one parameter changes", async () => {
    const { storage, keys } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    await runAll(experiment, context(storage));
    const before = new Set(await keys());
    calls.length = 0;
    const changed = [sets[0] as (typeof sets)[number], { ...(sets[1] as (typeof sets)[number]), scale: 3 }];
    await runAll(experiment, context(storage), changed);
    expect(calls).toEqual(["total:a", "load:b", "scale:b", "total:b", "compare"]);
    const added = (await keys()).filter((k) => !before.has(k));
    const hb = parameterHash(changed[1] as P, schema);
    expect(added.filter((k) => !k.includes("_compare_")).every((k) => k.includes(hb))).toBe(true);
    expect(added.filter((k) => k.includes("_compare_")).length).toBe(2);
  });

  it("caches aggregates under the active hash combined with the sorted record hashes", async () => {
    const { storage, keys } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    const { agg } = await runAll(experiment, context(storage));
    const expected = aggregateHash(
      parameterHash({}),
      sets.map((s) => parameterHash(s as P, schema)),
    );
    expect(agg?.hash).toBe(expected);
    expect(await keys()).toContain(`cache/toy_${expected}_compare_best.json`);
    expect(await agg?.get("best")).toBe("b");
    const meta = JSON.parse(new TextDecoder().decode(await storage.read(`cache/toy_${expected}_compare_best_metadata.json`)));
    expect([...meta.inputs].sort()).toEqual(sets.map((s) => parameterHash(s as P, schema)).sort());
    // Records in another order: same hash, cached.
    calls.length = 0;
    const again = await runAll(experiment, context(storage), [...sets].reverse());
    expect(again.agg?.hash).toBe(expected);
    expect(calls).not.toContain("compare");
    // A subset of the records is another aggregate.
    const one = await runAll(experiment, context(storage), [sets[0] as (typeof sets)[number]]);
    expect(one.agg?.hash).not.toBe(expected);
    expect(calls).toContain("compare");
  });

  it("a stage that declares uses caches under those parameters and its inputs' hashes only", async () => {
    const { storage, keys } = countingStorage();
    const calls: string[] = [];
    const p = z.object({ n: z.number(), lr: z.number(), tag: z.string() });
    const load = stage<Record<string, never>, { data: number[] }, z.output<typeof p>>(
      { name: "load", outputs: ["data"], cachers: [cachers.json()], uses: ["n"] },
      (_i, r) => {
        calls.push(`load:${r.name}`);
        return { data: Array.from({ length: r.params.n }, (_, i) => i) };
      },
    );
    const prep = stage<{ data: number[] }, { prepped: number[] }>(
      { name: "prep", inputs: ["data"], outputs: ["prepped"], cachers: [cachers.json()], uses: [] },
      ({ data }, r) => {
        calls.push(`prep:${r.name}`);
        return { prepped: data.map((x) => x + 1) };
      },
    );
    const fit = stage<{ prepped: number[] }, { w: number }, z.output<typeof p>>(
      { name: "fit", inputs: ["prepped"], outputs: ["w"], cachers: [cachers.json()], uses: ["lr"] },
      ({ prepped }, r) => {
        calls.push(`fit:${r.name}`);
        return { w: prepped.reduce((a, b) => a + b, 0) * r.params.lr };
      },
    );
    const experiment = defineExperiment({ name: "uses", parameters: p, stages: [load, prep, fit] });
    const ctx = context(storage);
    // Two sets that agree on n share load and prep; fit differs by lr.
    const a = await runRecord(experiment, { name: "a", n: 3, lr: 0.1, tag: "x" }, ctx);
    const b = await runRecord(experiment, { name: "b", n: 3, lr: 0.2, tag: "y" }, ctx);
    expect(calls).toEqual(["load:a", "prep:a", "fit:a", "fit:b"]);
    expect(b.stages.map((st) => st.status)).toEqual(["cached", "cached", "computed"]);
    expect(a.stages[0]?.hash).toBe(b.stages[0]?.hash);
    expect(a.stages[2]?.hash).not.toBe(b.stages[2]?.hash);
    expect(await b.get("w")).toBeCloseTo(1.2);
    // A changed n reruns load, and prep (uses nothing) reruns because its input's hash changed.
    calls.length = 0;
    await runRecord(experiment, { name: "c", n: 4, lr: 0.1, tag: "x" }, ctx);
    expect(calls).toEqual(["load:c", "prep:c", "fit:c"]);
    // A parameter no stage uses changes nothing.
    calls.length = 0;
    const before = await keys();
    await runRecord(experiment, { name: "d", n: 3, lr: 0.1, tag: "other" }, ctx);
    expect(calls).toEqual([]);
    expect(await keys()).toEqual(before);
    // The sidecar shows only the parameters the stage uses.
    const meta = JSON.parse(new TextDecoder().decode(await storage.read(`cache/toy_${a.stages[0]?.hash}_load_data_metadata.json`)));
    expect(meta.parameters).toEqual({ n: 3 });
    // plan computes the same hashes without running.
    const planned = await plan(experiment, [{ name: "e", n: 3, lr: 0.5, tag: "z" }], ctx);
    expect(planned.map((e) => `${e.stage}:${e.cached}`)).toEqual(["load:true", "prep:true", "fit:false"]);
    expect(planned[1]?.hash).toBe(a.stages[1]?.hash);
  });

  it("always runs a stage without cachers", async () => {
    const { storage } = countingStorage();
    let n = 0;
    const tick = stage({ name: "tick", outputs: ["t"] }, () => ({ t: ++n }));
    const experiment = defineExperiment({ name: "ticks", parameters: z.object({}), stages: [tick] });
    await runRecord(experiment, { name: "x" }, context(storage));
    const r = await runRecord(experiment, { name: "x" }, context(storage));
    expect(n).toBe(2);
    expect(await r.get("t")).toBe(2);
  });

  it("a failing stage is STAGE_FAILED naming the stage and record, and keeps what was cached", async () => {
    const { storage, keys } = countingStorage();
    const ok = stage({ name: "ok", outputs: ["x"], cachers: [cachers.json()] }, () => ({ x: 1 }));
    const boom = stage({ name: "boom", inputs: ["x"], outputs: ["y"], cachers: [cachers.json()] }, () => {
      throw new Error("out of cheese");
    });
    const experiment = defineExperiment({ name: "fails", parameters: z.object({}), stages: [ok, boom] });
    const error = await runRecord(experiment, { name: "r1" }, context(storage)).catch((e: unknown) => e);
    expect(isLabbookError(error, "STAGE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/Stage "boom" failed for record "r1".*out of cheese/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    const files = await keys();
    expect(files.filter((k) => k.includes("_ok_x"))).toHaveLength(2);
    expect(files.some((k) => k.includes("_boom_"))).toBe(false);
    // A stage that forgets a declared output fails the same way.
    const forgetful = stage({ name: "forgetful", outputs: ["z"], cachers: [cachers.json()] }, () => ({}) as { z: number });
    const e2 = await runRecord(defineExperiment({ name: "f2", parameters: z.object({}), stages: [forgetful] }), { name: "r" }, context(storage)).catch(
      (e: unknown) => e,
    );
    expect(isLabbookError(e2, "STAGE_FAILED")).toBe(true);
    expect((e2 as Error).message).toMatch(/did not return its declared output\(s\) z/);
  });

  it("makeCopy shares the state so far and caches later stages under the new hash", async () => {
    const { storage, keys } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    const ctx = context(storage);
    const base = new PipelineRecord({ name: "a", n: 3, scale: 1 }, ctx);
    await base.run(experiment.stages[0] as never);
    const copy = base.makeCopy({ name: "a2", n: 3, scale: 5 });
    expect(copy.hash).not.toBe(base.hash);
    expect(copy.stages.map((s) => s.stage)).toEqual(["load"]);
    await copy.run(experiment.stages[1] as never);
    expect(calls).toEqual(["load:a", "scale:a2"]);
    expect(await copy.get("scaled")).toEqual([0, 5, 10]);
    expect((await keys()).some((k) => k === `cache/toy_${copy.hash}_scale_scaled.json`)).toBe(true);
    expect(base.has("scaled")).toBe(false);
  });

  it("getPath and getDir give per-parameter keys under the running stage and track them", async () => {
    const { storage } = countingStorage();
    const draw = stage({ name: "draw", outputs: [] }, async (_in, r) => {
      await r.cache.storage.write(r.getPath("plot.svg"), "<svg/>");
      await r.cache.storage.write(`${r.getDir("frames")}/0.txt`, "0");
      r.report({ kind: "text", text: "drew" });
      return {};
    });
    const r = await runRecord(
      defineExperiment({ name: "paths", parameters: z.object({ k: z.number() }), stages: [draw] }),
      { name: "p", k: 1 },
      context(storage),
    );
    const h = parameterHash({ k: 1 });
    expect(r.tracked).toEqual([`cache/toy_${h}_draw_plot.svg`, `cache/toy_${h}_draw_frames.d/`]);
    expect(new TextDecoder().decode(await storage.read(`cache/toy_${h}_draw_plot.svg`))).toBe("<svg/>");
    expect(r.reports).toEqual([{ kind: "text", text: "drew", stage: "draw" }]);
  });

  it("completes an entry whose data file a killed writer left without metadata, and survives concurrent fills", async () => {
    const { storage } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    const h = parameterHash(sets[0] as P, schema);
    await storage.write(`cache/toy_${h}_load_data.json`, "[0, 1, 2]");
    const ctx = context(storage);
    const [r1, r2] = await Promise.all([
      runRecord(experiment, sets[0] as P & { name: string }, ctx),
      runRecord(experiment, sets[0] as P & { name: string }, ctx),
    ]);
    expect(await r1.get("total")).toBe(3);
    expect(await r2.get("total")).toBe(3);
    expect(await storage.stat(`cache/toy_${h}_load_data_metadata.json`)).toBeDefined();
    calls.length = 0;
    await runRecord(experiment, sets[0] as P & { name: string }, ctx);
    expect(calls).toEqual(["total:a"]);
  });

  it("plan says what is cached without running or writing anything", async () => {
    const { storage, keys } = countingStorage();
    const calls: string[] = [];
    const experiment = toy(calls);
    const empty = await plan(experiment, sets, context(storage));
    expect(empty.every((e) => !e.cached)).toBe(true);
    expect(await keys()).toEqual([]);
    await runAll(experiment, context(storage));
    calls.length = 0;
    const full = await plan(experiment, sets, context(storage));
    expect(full.map((e) => `${e.record}/${e.stage}:${e.cached}`)).toEqual([
      "a/load:true",
      "a/scale:true",
      "a/total:false",
      "b/load:true",
      "b/scale:true",
      "b/total:false",
      "aggregate/compare:true",
    ]);
    expect(calls).toEqual([]);
  });
});

describe("typed errors before anything runs", () => {
  const noop = (): Record<string, never> => ({});
  const c = cachers.json();
  const cases: Array<[string, () => void, string, RegExp]> = [
    [
      "more cachers than outputs",
      () =>
        validateExperiment(defineExperiment({ name: "e", parameters: z.object({}), stages: [stage({ name: "s", outputs: ["a"], cachers: [c, c] }, noop)] })),
      "INVALID_ARGUMENT",
      /"s" has 1 output\(s\) \(a\) but 2 cacher/,
    ],
    [
      "an input no earlier stage produces",
      () =>
        validateExperiment(
          defineExperiment({
            name: "e",
            parameters: z.object({}),
            stages: [stage({ name: "s1", inputs: ["model"], outputs: ["x"] }, noop), stage({ name: "s2", outputs: ["model"] }, noop)],
          }),
        ),
      "MISSING_DEPENDENCY",
      /Stage "s1" needs "model", which no earlier stage produces/,
    ],
    [
      "an aggregate input no stage produces",
      () =>
        validateExperiment(
          defineExperiment({ name: "e", parameters: z.object({}), stages: [], aggregates: [aggregate({ name: "agg", inputs: ["score"], outputs: [] }, noop)] }),
        ),
      "MISSING_DEPENDENCY",
      /Aggregate stage "agg" needs "score"/,
    ],
    [
      "an artifact that is not an output",
      () =>
        validateExperiment(
          defineExperiment({
            name: "e",
            parameters: z.object({}),
            stages: [stage({ name: "s", outputs: ["a"], cachers: [c], artifacts: ["b" as "a"] }, noop)],
          }),
        ),
      "INVALID_ARGUMENT",
      /lists "b" as an artifact, but it is not one of its outputs/,
    ],
    [
      "an artifact of a stage without cachers",
      () =>
        validateExperiment(defineExperiment({ name: "e", parameters: z.object({}), stages: [stage({ name: "s", outputs: ["a"], artifacts: ["a"] }, noop)] })),
      "INVALID_ARGUMENT",
      /has no cachers/,
    ],
    [
      "two stages of one name",
      () => validateExperiment(defineExperiment({ name: "e", parameters: z.object({}), stages: [stage({ name: "s" }, noop), stage({ name: "s" }, noop)] })),
      "INVALID_ARGUMENT",
      /two stages named "s"/,
    ],
    [
      "an output produced twice",
      () =>
        validateExperiment(
          defineExperiment({
            name: "e",
            parameters: z.object({}),
            stages: [stage({ name: "s", outputs: ["a"] }, noop), stage({ name: "t", outputs: ["a"] }, noop)],
          }),
        ),
      "INVALID_ARGUMENT",
      /already produces/,
    ],
    [
      "a stage name that would escape the cache folder",
      () => validateExperiment(defineExperiment({ name: "e", parameters: z.object({}), stages: [stage({ name: "../up" }, noop)] })),
      "INVALID_ARGUMENT",
      /Invalid stage name "\.\.\/up"/,
    ],
    [
      "an unknown --overwrite-stage",
      () => validateExperiment(defineExperiment({ name: "e", parameters: z.object({}), stages: [stage({ name: "s" }, noop)] }), { overwriteStages: ["nope"] }),
      "INVALID_ARGUMENT",
      /--overwrite-stage nope: experiment "e" has no such stage \(it has s\)/,
    ],
    [
      "a user cacher without decode",
      () =>
        validateExperiment(
          defineExperiment({
            name: "e",
            parameters: z.object({}),
            stages: [stage({ name: "s", outputs: ["a"], cachers: [{ name: "x", extension: "x", encode: () => "" } as unknown as Cacher] }, noop)],
          }),
        ),
      "INVALID_ARGUMENT",
      /cacher 1 is not a cacher/,
    ],
    [
      "a parameter set the schema refuses",
      () => validateParameterSets(toy([]), [{ set: { name: "a", n: 1.5, scale: 1 }, source: "params.json" }]),
      "INVALID_ARGUMENT",
      /Parameter set "a" from params.json does not match the schema of "toy": n: /,
    ],
    [
      "two parameter sets of one name",
      () =>
        validateParameterSets(toy([]), [
          { set: { name: "a", n: 1, scale: 1 }, source: "x.json" },
          { set: { name: "a", n: 2, scale: 1 }, source: "y.json" },
        ]),
      "INVALID_ARGUMENT",
      /Two parameter sets are named "a" \(from x.json and y.json\)/,
    ],
    [
      "a parameter set without a name",
      () => validateParameterSets(toy([]), [{ set: { n: 1, scale: 1 }, source: "x.json" }]),
      "INVALID_ARGUMENT",
      /Invalid parameter set name undefined \(from x.json\)/,
    ],
    ["no parameter sets", () => validateParameterSets(toy([]), []), "INVALID_ARGUMENT", /No parameter sets for "toy"/],
    [
      "a stage that uses a parameter the schema does not have",
      () =>
        validateExperiment(
          defineExperiment({
            name: "e",
            parameters: z.object({ lr: z.number() }),
            stages: [stage<Record<string, never>, Record<string, never>, { lr: number; lR: number }>({ name: "s", uses: ["lR"] }, noop)],
          }),
        ),
      "INVALID_ARGUMENT",
      /Stage "s" uses the parameter "lR", which the schema of "e" does not have \(it has: lr\)/,
    ],
  ];
  it.each(cases)("%s", (_label, fn, code, message) => {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(isLabbookError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  });
});
