import type { Experiment } from "@labbook/core";
import { isLabbookError } from "@labbook/core";
import { compileFilter, FILTER_FIELDS, fieldValue, parseField } from "../filter-expression.js";
import { renderGrid, tableCells } from "../table-core.js";
import { isNarrow, loadWideWidth } from "../text-width.js";
import { readProject } from "./locations.js";
import { positiveInt, print, printJson, tableOptions, UsageError } from "./output.js";

export interface LsOptions {
  filter?: string;
  sort?: string;
  columns?: string;
  limit?: string;
  json?: boolean;
}

/** Parse a user-supplied expression or field, turning INVALID_ARGUMENT into a usage error (exit 2). */
function asUsage<T>(option: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    // The expression parser says "Bad filter"; for --sort and --columns it is a field that is bad.
    if (isLabbookError(error, "INVALID_ARGUMENT"))
      throw new UsageError(`${option}: ${option === "--filter" ? error.message : error.message.replace(/^Bad filter\b/, "Bad field")}`);
    throw error;
  }
}

/** A field named in --sort or --columns; a bare metric or parameter name gets a message that says so. */
function fieldArg(option: string, text: string): string[] {
  if (/^[A-Za-z_][\w-]*$/.test(text) && !(FILTER_FIELDS as readonly string[]).includes(text)) {
    throw new UsageError(
      `${option}: "${text}" is not a field. Use metrics.${text} for a metric or parameters.${text} for a parameter (for example ${option} ${option === "--sort" ? "-" : ""}metrics.${text}), or one of ${FILTER_FIELDS.join(", ")}.`,
    );
  }
  return asUsage(option, () => parseField(text));
}

function rank(value: unknown): number {
  if (value === undefined || value === null) return 3;
  if (typeof value === "number") return Number.isNaN(value) ? 2 : 0;
  return 1;
}

export interface SortKey {
  path: string[];
  descending: boolean;
}

/** Parse `--sort`: fields separated by commas, "-" in front for descending. */
export function parseSort(spec: string): SortKey[] {
  const keys = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => ({ descending: s.startsWith("-"), path: fieldArg("--sort", s.replace(/^[-+]/, "")) }));
  if (keys.length === 0) throw new UsageError("--sort needs a field, for example --sort -metrics.auc");
  return keys;
}

/** Order experiments by the keys. Absent values always come last; ties keep file order. */
export function sortExperiments(experiments: Experiment[], keys: SortKey[]): Experiment[] {
  return experiments
    .map((e, index) => ({ e, index, values: keys.map((k) => fieldValue(e.toRecord(), k.path)) }))
    .sort((x, y) => {
      for (const [i, key] of keys.entries()) {
        const a = x.values[i];
        const b = y.values[i];
        const ra = rank(a);
        const rb = rank(b);
        if (ra !== rb) return ra - rb;
        if (ra >= 2) continue;
        const sa = ra === 0 ? (a as number) : JSON.stringify(a);
        const sb = rb === 0 ? (b as number) : JSON.stringify(b);
        if (sa < sb) return key.descending ? 1 : -1;
        if (sa > sb) return key.descending ? -1 : 1;
      }
      return x.index - y.index;
    })
    .map((x) => x.e);
}

/** The `--json` shape of one experiment in `labbook ls`. */
export function experimentSummary(e: Experiment) {
  const r = e.toRecord();
  return {
    slug: r.slug,
    short_slug: r.short_slug,
    name: r.name,
    author: r.author,
    created_at: r.created_at,
    last_updated: r.last_updated,
    tags: r.tags,
    metrics: r.metrics,
    parameters: r.parameters,
  };
}

export async function ls(location: string, options: LsOptions): Promise<void> {
  const predicate = options.filter === undefined ? undefined : asUsage("--filter", () => compileFilter(options.filter as string));
  const columns =
    options.columns === undefined
      ? undefined
      : options.columns
          .split(",")
          .map((c) => c.trim())
          .filter((c) => c.length > 0);
  if (columns) for (const c of columns) fieldArg("--columns", c);
  const limit = options.limit === undefined ? undefined : positiveInt(options.limit, "--limit");
  const sort = options.sort === undefined ? undefined : parseSort(options.sort);
  const project = await readProject(location);
  let experiments = predicate ? project.filter(predicate) : [...project.experiments];
  if (sort) experiments = sortExperiments(experiments, sort);
  if (limit !== undefined) experiments = experiments.slice(0, limit);
  if (options.json) {
    printJson(experiments.map(experimentSummary));
    return;
  }
  if (experiments.length === 0) {
    process.stderr.write(project.size === 0 ? `No experiments in ${project.path}.\n` : `No experiments match (of ${project.size}).\n`);
    return;
  }
  const { head, rows } = tableCells(project, { experiments, ...(columns ? { columns } : {}) });
  // string-width loads only for a cell that is not printable ASCII (it costs tens of milliseconds to import).
  if (!head.every(isNarrow) || !rows.every((row) => row.every(isNarrow))) await loadWideWidth();
  print(renderGrid(head, rows, tableOptions()));
}
