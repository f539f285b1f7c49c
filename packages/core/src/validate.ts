import type { z } from "zod";
import { LabbookError } from "./errors.js";
import { projectFileSchema, repositoryFileSchema } from "./schemas.js";

type Check = (data: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const isString = (v: unknown): v is string => typeof v === "string";
const isNonNegativeInt = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const SHA256 = /^[0-9a-f]{64}$/;

function everyValue(o: unknown, check: (v: unknown) => boolean): boolean {
  if (!isObject(o)) return false;
  for (const k in o) if (!check(o[k])) return false;
  return true;
}

function everyItem(a: unknown, check: (v: unknown) => boolean): boolean {
  if (!Array.isArray(a)) return false;
  for (const v of a) if (!check(v)) return false;
  return true;
}

const isMetric = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const isAny = (): boolean => true;

function isArtifactEntry(e: unknown): boolean {
  return (
    isObject(e) &&
    isString(e.created_at) &&
    (e.expiry === null || isString(e.expiry)) &&
    isString(e.fname) &&
    isString(e.handler) &&
    isString(e.name) &&
    isNonNegativeInt(e.version) &&
    (e.size === undefined || isNonNegativeInt(e.size)) &&
    (e.sha256 === undefined || (isString(e.sha256) && SHA256.test(e.sha256)))
  );
}

function isTestRecord(t: unknown): boolean {
  return (
    isObject(t) &&
    everyItem(t.artifacts, isArtifactEntry) &&
    (t.description === null || isString(t.description)) &&
    everyValue(t.metrics, isMetric) &&
    isString(t.name) &&
    everyValue(t.parameters, isAny)
  );
}

function isExperimentRecord(x: unknown): boolean {
  return (
    isObject(x) &&
    everyItem(x.artifacts, isArtifactEntry) &&
    isString(x.author) &&
    isString(x.created_at) &&
    everyItem(x.dependencies, isString) &&
    isString(x.last_updated) &&
    isString(x.last_updated_by) &&
    everyValue(x.metrics, isMetric) &&
    isString(x.name) &&
    everyValue(x.parameters, isAny) &&
    isString(x.short_slug) &&
    isString(x.slug) &&
    everyItem(x.tags, isString) &&
    everyItem(x.tests, isTestRecord)
  );
}

/**
 * Hand-written structural checks for the big index files, about 20× faster than zod on a project of
 * thousands of experiments. Each is stricter than or equal to its schema: when it says yes, zod
 * would too; when it says no, zod runs and gives the precise message. The schemas stay the source
 * of truth (test/validate-fast.test.ts holds the two together).
 */
const fastChecks = new Map<z.ZodType<unknown>, Check>([
  [projectFileSchema, (d) => everyItem(d, isExperimentRecord)],
  [repositoryFileSchema, (d) => everyItem(d, isArtifactEntry)],
]);

/** @internal The fast check registered for `schema`, if any (for tests). */
export function fastCheckFor(schema: z.ZodType<unknown>): Check | undefined {
  return fastChecks.get(schema);
}

/**
 * Check `data` against `schema` without copying it (the parsed objects carry number-spelling memos),
 * and turn the first issue into INVALID_FORMAT naming the file and the field.
 */
export function validateFile<T>(schema: z.ZodType<T>, data: unknown, file: string): T {
  if (fastChecks.get(schema)?.(data)) return data as T;
  const result = schema.safeParse(data);
  if (result.success) return data as T;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") : "(top level)";
  throw new LabbookError(
    "INVALID_FORMAT",
    `${file} has an invalid field at ${where}: ${issue?.message ?? "invalid"}. The file was not changed; fix or restore it and try again.`,
    { path: file, cause: result.error },
  );
}
