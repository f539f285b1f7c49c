import type { HandlerRegistry } from "./artifacts/handler.js";
import { canonicalDate, formatCompact, parseDate } from "./dates.js";
import { LabbookError } from "./errors.js";
import type { StoredArtifactEntry, StoredExperimentRecord } from "./schemas.js";
import { slugify } from "./slug.js";

/**
 * The fields lazyscribe 2.2 fills in when it loads a file that lacks them, filled in the same way
 * (read from its Project.load, Experiment, Test and Artifact.construct), so a file lazyscribe opens
 * opens here too and a rewrite writes what lazyscribe would write. Dates it would rewrite in its
 * own spelling (`YYYY-MM-DDTHH:MM:SS`) are respelled too.
 */
export interface DefaultsContext {
  /** Handlers, for the suffix of a default file name. */
  readonly handlers: HandlerRegistry;
  /** lazyscribe's default author is the user who reads the file (getpass.getuser()). */
  readonly author: string;
  /** The file, for messages. */
  readonly path: string;
}

function fill<T extends object, K extends keyof T>(record: T, key: K, value: () => T[K]): boolean {
  if (record[key] !== undefined) return false;
  record[key] = value();
  return true;
}

function respell<T extends object>(record: T, key: keyof T): boolean {
  const text = record[key];
  if (typeof text !== "string") return false;
  const canonical = canonicalDate(text);
  if (canonical === undefined) return false;
  (record as Record<keyof T, unknown>)[key] = canonical;
  return true;
}

/**
 * Fill in an artifact entry in place (`expiry` null, `version` 0, `fname` from the name, the date
 * and the handler's suffix). Returns true when something was added or respelled.
 */
export function fillArtifactDefaults(entry: StoredArtifactEntry, context: DefaultsContext): boolean {
  let changed = respell(entry, "created_at");
  changed = fill(entry, "expiry", () => null) || changed;
  changed = fill(entry, "version", () => 0) || changed;
  if (entry.fname === undefined) {
    const handler = context.handlers.find(entry.handler);
    if (!handler) {
      throw new LabbookError(
        "INVALID_FORMAT",
        `${context.path}: artifact "${entry.name}" has no fname and its handler "${entry.handler}" is unknown, so its file name cannot be worked out. Register a "${entry.handler}" handler or add the fname; the file was not changed.`,
        { path: context.path },
      );
    }
    entry.fname = `${slugify(entry.name)}-${slugify(formatCompact(parseDate(entry.created_at, "created_at")))}.${handler.suffix}`;
    changed = true;
  }
  return changed;
}

function fillTestDefaults(test: NonNullable<StoredExperimentRecord["tests"]>[number], context: DefaultsContext): boolean {
  let changed = fill(test, "artifacts", () => []);
  changed = fill(test, "description", () => null) || changed;
  changed = fill(test, "metrics", () => ({})) || changed;
  changed = fill(test, "parameters", () => ({})) || changed;
  for (const entry of test.artifacts ?? []) changed = fillArtifactDefaults(entry, context) || changed;
  return changed;
}

/**
 * Fill in one experiment in place as lazyscribe's loader does: author (the reading user),
 * last_updated_by (the author), slugs (from the name and created_at), empty metrics, parameters,
 * tags, dependencies, tests and artifacts. Returns true when something was added or respelled.
 */
export function fillExperimentDefaults(record: StoredExperimentRecord, context: DefaultsContext): boolean {
  if (record.slug === undefined && (record.tests?.length ?? 0) > 0) {
    // lazyscribe's loader reads the slug for the tests' folder, so it cannot open such a file either.
    throw new LabbookError(
      "INVALID_FORMAT",
      `${context.path}: experiment "${record.name}" has tests but no slug, so its tests' folder is unknown (lazyscribe cannot open it either). Add the slug; the file was not changed.`,
      { path: context.path },
    );
  }
  let changed = respell(record, "created_at");
  changed = respell(record, "last_updated") || changed;
  changed = fill(record, "author", () => context.author) || changed;
  changed = fill(record, "last_updated_by", () => record.author as string) || changed;
  changed = fill(record, "metrics", () => ({})) || changed;
  changed = fill(record, "parameters", () => ({})) || changed;
  changed = fill(record, "dependencies", () => []) || changed;
  changed = fill(record, "short_slug", () => slugify(record.name)) || changed;
  changed = fill(record, "slug", () => slugify(`${record.name}-${formatCompact(parseDate(record.created_at, "created_at"))}`)) || changed;
  changed = fill(record, "tags", () => []) || changed;
  changed = fill(record, "tests", () => []) || changed;
  changed = fill(record, "artifacts", () => []) || changed;
  for (const test of record.tests ?? []) changed = fillTestDefaults(test, context) || changed;
  for (const entry of record.artifacts ?? []) changed = fillArtifactDefaults(entry, context) || changed;
  return changed;
}
