/**
 * Behaviours that follow lazyscribe 2.2 (read from its Project, Experiment and Test classes; the
 * live comparison with Python is packages/labbook/test/lazyscribe-fixtures.test.ts).
 */
import { describe, expect, it } from "vitest";
import { formatCompact, formatDate, MemoryStorage, Project, parseDate, parsePyJson } from "../src/index.js";

const decoder = new TextDecoder();
const at = (iso: string) => () => new Date(`${iso}Z`);

function experiment(name: string, created: string, extra: Record<string, unknown> = {}) {
  const slug = `${name}-${created.replace(/\D/g, "")}`;
  return {
    artifacts: [],
    author: "ada",
    created_at: created,
    dependencies: [],
    last_updated: created,
    last_updated_by: "ada",
    metrics: {},
    name,
    parameters: {},
    short_slug: name,
    slug,
    tags: [],
    tests: [],
    ...extra,
  };
}

async function stored(records: unknown[]): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await storage.write("project.json", JSON.stringify(records));
  return storage;
}

async function file(storage: MemoryStorage): Promise<Array<Record<string, unknown>>> {
  return parsePyJson(decoder.decode(await storage.read("project.json"))) as Array<Record<string, unknown>>;
}

describe("year-1 dates (Python's datetime.min)", () => {
  it("parse and format as year 1, not 1901", () => {
    const min = parseDate("0001-01-01T00:00:00");
    expect(min.getUTCFullYear()).toBe(1);
    expect(formatDate(min)).toBe("0001-01-01T00:00:00");
    expect(parseDate("0099-12-31T23:59:59").getUTCFullYear()).toBe(99);
    // strftime("%Y") in Python does not pad years before 1000: lazyscribe's slug of year 1 says "1".
    expect(formatCompact(min)).toBe("10101000000");
  });

  it("an experiment created in year 1 opens, and its derived slug is lazyscribe's", async () => {
    const { slug: _slug, ...record } = experiment("old", "0001-01-01T00:00:00");
    const project = await Project.open("project.json", { storage: await stored([record]), mode: "r" });
    expect(project.get("old").slug).toBe("old-10101000000");
    expect(project.get("old").createdAt.toISOString()).toBe("0001-01-01T00:00:00.000Z");
  });

  it("takes the other spellings Python's fromisoformat takes, and refuses year 0", () => {
    expect(parseDate("2024-01-31").toISOString()).toBe("2024-01-31T00:00:00.000Z");
    expect(parseDate("2024-01-31 12:30").toISOString()).toBe("2024-01-31T12:30:00.000Z");
    expect(parseDate("2024-01-31T12:30:00+01:00").toISOString()).toBe("2024-01-31T11:30:00.000Z");
    expect(() => parseDate("0000-01-01T00:00:00")).toThrow(/Invalid date/);
  });
});

describe("look-up by slug and short slug: the last match in the project's order wins", () => {
  it("by short slug and by a full slug stored twice", async () => {
    const first = experiment("run", "2024-01-01T00:00:00", { metrics: { n: 1 } });
    const second = experiment("run", "2024-02-01T00:00:00", { metrics: { n: 2 } });
    const again = { ...first, last_updated: "2024-03-01T00:00:00", metrics: { n: 3 } };
    const project = await Project.open("project.json", { storage: await stored([first, again, second]), mode: "r" });
    // lazyscribe holds the file ascending (insort): first, again (same slug, later last_updated), second.
    expect(project.experiments.map((e) => e.metrics.n)).toEqual([1, 3, 2]);
    expect(project.get("run").metrics.n).toBe(2);
    expect(project.get(first.slug).metrics.n).toBe(3);
  });

  it("a short slug equal to an earlier experiment's full slug finds the later experiment", async () => {
    const a = experiment("x", "2024-01-01T00:00:00");
    const b = { ...experiment("x-20240101000000", "2024-02-01T00:00:00") };
    const project = await Project.open("project.json", { storage: await stored([a, b]), mode: "r" });
    expect(project.get("x-20240101000000").name).toBe("x-20240101000000");
  });
});

describe("logging on a test of a loaded experiment", () => {
  it("leaves the experiment's last_updated and last_updated_by as they were (mode w+)", async () => {
    const record = experiment("e", "2024-01-01T00:00:00", {
      tests: [{ artifacts: [], description: null, metrics: {}, name: "t", parameters: {} }],
    });
    const storage = await stored([record]);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob", clock: at("2024-06-01T00:00:00") });
    const test = project.get("e").tests[0];
    test?.logMetric("m", 1);
    test?.logParameter("p", "v");
    test?.logArtifact("a", { x: 1 }, { handler: "json" });
    expect(project.get("e").record.last_updated).toBe("2024-01-01T00:00:00");
    await project.save();
    const [saved] = await file(storage);
    expect(saved?.last_updated).toBe("2024-01-01T00:00:00");
    expect(saved?.last_updated_by).toBe("ada");
    expect(saved?.tests).toMatchObject([{ metrics: { m: 1 } }]);
    expect(await storage.stat("e-20240101000000/t/a-20240601000000.json")).toBeDefined();
  });

  it("a change to the experiment itself still updates both", async () => {
    const storage = await stored([experiment("e", "2024-01-01T00:00:00")]);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob", clock: at("2024-06-01T00:00:00") });
    project.get("e").logMetric("m", 1);
    await project.save();
    const [saved] = await file(storage);
    expect([saved?.last_updated, saved?.last_updated_by]).toEqual(["2024-06-01T00:00:00", "bob"]);
  });
});

describe("the file stays ascending by created_at", () => {
  it("an experiment logged with an earlier clock is saved before later ones", async () => {
    const storage = await stored([experiment("late", "2024-05-01T00:00:00")]);
    let now = "2024-01-01T00:00:00";
    const project = await Project.open("project.json", { storage, clock: () => new Date(`${now}Z`) });
    await project.log("early", () => {});
    now = "2024-09-01T00:00:00";
    await project.log("latest", () => {});
    await project.save();
    expect((await file(storage)).map((r) => r.name)).toEqual(["early", "late", "latest"]);
    expect(project.experiments.map((e) => e.name)).toEqual(["early", "late", "latest"]);
  });

  it("a file out of order is held in lazyscribe's order and written ascending", async () => {
    const storage = await stored([experiment("b", "2024-02-01T00:00:00"), experiment("a", "2024-01-01T00:00:00")]);
    const project = await Project.open("project.json", { storage, clock: at("2024-03-01T00:00:00") });
    expect(project.experiments.map((e) => e.name)).toEqual(["a", "b"]);
    await project.log("c", () => {});
    await project.save();
    expect((await file(storage)).map((r) => r.name)).toEqual(["a", "b", "c"]);
  });
});

describe("fields lazyscribe defaults", () => {
  it("are filled in on read and written on save, as lazyscribe writes them", async () => {
    const storage = await stored([
      {
        name: "bare",
        created_at: "2024-01-01T00:00:00",
        last_updated: "2024-01-01T00:00:00",
        artifacts: [{ name: "m", handler: "json", created_at: "2024-01-01T00:00:00" }],
      },
    ]);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob", clock: at("2024-06-01T00:00:00") });
    await project.log("new", () => {});
    await project.save();
    const [saved] = await file(storage);
    expect(saved).toEqual({
      ...experiment("bare", "2024-01-01T00:00:00", { author: process.env.LABBOOK_AUTHOR ?? saved?.author, last_updated_by: saved?.author }),
      artifacts: [{ name: "m", handler: "json", created_at: "2024-01-01T00:00:00", expiry: null, fname: "m-20240101000000.json", version: 0 }],
    });
  });

  it("an experiment with tests but no slug is refused, as lazyscribe refuses it", async () => {
    const { slug: _slug, ...record } = experiment("e", "2024-01-01T00:00:00", { tests: [{ name: "t" }] });
    const error = await Project.open("project.json", { storage: await stored([record]), mode: "r" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_FORMAT", message: expect.stringMatching(/has tests but no slug/) });
  });
});
