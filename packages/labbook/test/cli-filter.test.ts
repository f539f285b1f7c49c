import { describe, expect, it } from "vitest";
import { evaluateFilter } from "../src/filter-expression.js";
import { type ExperimentRecord, isLabbookError, parseField, parseFilter } from "../src/index.js";

const record: ExperimentRecord = {
  artifacts: [{ created_at: "2024-01-02T03:04:05", expiry: null, fname: "m.json", handler: "json", name: "model", version: 0 }],
  author: "ada",
  created_at: "2024-01-02T03:04:05",
  dependencies: ["upstream.json|feature-build-20240101000000"],
  last_updated: "2024-01-02T03:04:05",
  last_updated_by: "ada",
  metrics: { auc: 0.91, "f1 score": 0.5, loss: Number.NaN },
  name: "Baseline run",
  parameters: { lr: 0.1, model: { depth: 6, kind: "gbm" }, flag: true, missing: null },
  short_slug: "baseline-run",
  slug: "baseline-run-20240102030405",
  tags: ["baseline", "gpu"],
  tests: [{ artifacts: [], description: null, metrics: {}, name: "holdout", parameters: {} }],
};

const matches = (source: string) => evaluateFilter(parseFilter(source), record);

describe("filter expressions", () => {
  it.each([
    ["metrics.auc>0.9 and tags has baseline", true],
    ["metrics.auc >= 0.91 and metrics.auc <= 0.91", true],
    ["metrics.auc < .95", true],
    ["metrics.auc > 0.95 or tags has gpu", true],
    ["not tags has gpu", false],
    ["not (metrics.auc > 0.95 or tags has cpu)", true],
    ["metrics.auc > 0.95 or tags has gpu and author = bob", false],
    ["(metrics.auc > 0.95 or tags has gpu) and author = 'ada'", true],
    ['metrics."f1 score" = 0.5', true],
    ["parameters.model.depth >= 6 and parameters.model.kind = gbm", true],
    ["parameters.flag = true and parameters.missing = null", true],
    ["created_at >= 2024-01-01 and created_at < 2024-02-01", true],
    ["name has Baseline", true],
    ["artifacts has model and tests has holdout", true],
    ['dependencies has "upstream.json|feature-build-20240101000000"', true],
    ["metrics.absent != 1", false],
    ["metrics.absent < 1 or metrics.absent >= 1", false],
    ["metrics.loss = NaN", false],
    ["metrics.auc = 0.91 AND tags HAS gpu", true],
    ["metrics.auc == 0.91", true],
    ["parameters.lr > -1", true],
  ])("%s → %s", (source, expected) => {
    expect(matches(source)).toBe(expected);
  });

  it.each([
    ["", /empty/],
    ["metrics.auc", /expected a comparison/],
    ["metrics.auc > ", /expected a value/],
    ["metrics > 1", /name the metric/],
    ["tags.x has a", /"tags" has no sub-fields/],
    ["foo = 1", /unknown field "foo"/],
    ["metrics.auc > 1 metrics.auc < 2", /expected "and", "or" or the end/],
    ["(tags has a", /expected "\)"/],
    ["tags has 'a", /never closed/],
    ["tags has a; rm -rf /", /unexpected character ";"/],
    ["process.exit(1) = 1", /unknown field "process"/],
  ])("rejects %j", (source, message) => {
    let error: unknown;
    try {
      parseFilter(source);
    } catch (e) {
      error = e;
    }
    expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it("points at the column of the mistake", () => {
    expect(() => parseFilter("metrics.auc > 0.9 and ) ")).toThrow(/column 23[\s\S]*\n {24}\^/);
  });

  it("parses --sort and --columns fields", () => {
    expect(parseField("metrics.auc")).toEqual(["metrics", "auc"]);
    expect(parseField('parameters.model."max depth"')).toEqual(["parameters", "model", "max depth"]);
    expect(parseField("created_at")).toEqual(["created_at"]);
    expect(() => parseField("metrics.")).toThrow(/expected a field/);
    expect(() => parseField("nope")).toThrow(/unknown field/);
  });
});
