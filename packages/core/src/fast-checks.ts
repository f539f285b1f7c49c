import type { z } from "zod";

// The hand-written checks of the index files and their registry, apart from validate.ts so that
// schemas.ts can register them without importing the module that loads it (no import cycle).

export type Check = (data: unknown) => boolean;

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

/** A field lazyscribe defaults when it is missing (an explicit null is not missing). */
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
const isMetric = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const isAny = (): boolean => true;

function isArtifactEntry(e: unknown): boolean {
  return (
    isObject(e) &&
    isString(e.created_at) &&
    (e.expiry === undefined || e.expiry === null || isString(e.expiry)) &&
    (e.fname === undefined || isString(e.fname)) &&
    isString(e.handler) &&
    isString(e.name) &&
    (e.version === undefined || isNonNegativeInt(e.version)) &&
    (e.size === undefined || isNonNegativeInt(e.size)) &&
    (e.sha256 === undefined || (isString(e.sha256) && SHA256.test(e.sha256)))
  );
}

function isTestRecord(t: unknown): boolean {
  return (
    isObject(t) &&
    optional(t.artifacts, (v) => everyItem(v, isArtifactEntry)) &&
    (t.description === undefined || t.description === null || isString(t.description)) &&
    optional(t.metrics, (v) => everyValue(v, isMetric)) &&
    isString(t.name) &&
    optional(t.parameters, (v) => everyValue(v, isAny))
  );
}

function isExperimentRecord(x: unknown): boolean {
  return (
    isObject(x) &&
    optional(x.artifacts, (v) => everyItem(v, isArtifactEntry)) &&
    optional(x.author, isString) &&
    isString(x.created_at) &&
    optional(x.dependencies, (v) => everyItem(v, isString)) &&
    isString(x.last_updated) &&
    optional(x.last_updated_by, isString) &&
    optional(x.metrics, (v) => everyValue(v, isMetric)) &&
    isString(x.name) &&
    optional(x.parameters, (v) => everyValue(v, isAny)) &&
    optional(x.short_slug, isString) &&
    optional(x.slug, isString) &&
    optional(x.tags, (v) => everyItem(v, isString)) &&
    optional(x.tests, (v) => everyItem(v, isTestRecord))
  );
}

function isCompleteArtifactEntry(e: unknown): boolean {
  return isArtifactEntry(e) && isObject(e) && (e.expiry === null || isString(e.expiry)) && isString(e.fname) && isNonNegativeInt(e.version);
}

function isCompleteTestRecord(t: unknown): boolean {
  return (
    isObject(t) &&
    everyItem(t.artifacts, isCompleteArtifactEntry) &&
    (t.description === null || isString(t.description)) &&
    everyValue(t.metrics, isMetric) &&
    isString(t.name) &&
    everyValue(t.parameters, isAny)
  );
}

/** An experiment with every field (the fast check of experimentRecordSchema). */
export const isCompleteExperimentRecord: Check = (x) =>
  isExperimentRecord(x) &&
  isObject(x) &&
  everyItem(x.artifacts, isCompleteArtifactEntry) &&
  isString(x.author) &&
  everyItem(x.dependencies, isString) &&
  isString(x.last_updated_by) &&
  everyValue(x.metrics, isMetric) &&
  everyValue(x.parameters, isAny) &&
  isString(x.short_slug) &&
  isString(x.slug) &&
  everyItem(x.tags, isString) &&
  everyItem(x.tests, isCompleteTestRecord);

/** project.json as lazyscribe reads it (the fast check of storedProjectFileSchema). */
export const isStoredProjectFile: Check = (d) => everyItem(d, isExperimentRecord);
/** repository.json as lazyscribe reads it (the fast check of storedRepositoryFileSchema). */
export const isStoredRepositoryFile: Check = (d) => everyItem(d, isArtifactEntry);

/**
 * Hand-written structural checks for the big index files, about 20× faster than zod on a project of
 * thousands of experiments, and free of zod: reading a valid file never loads it. Each is stricter
 * than or equal to its schema: when it says yes, zod would too; when it says no, zod runs and gives
 * the precise message. The schemas stay the source of truth (test/validate-fast.test.ts holds the
 * two together); schemas.ts registers them here, so this module does not import zod.
 */
const fastChecks = new Map<z.ZodType<unknown>, Check>();

/** @internal Called by schemas.ts for the schemas that have a fast check. */
export function registerFastCheck(schema: z.ZodType<unknown>, check: Check): void {
  fastChecks.set(schema, check);
}

/** @internal The fast check registered for `schema`, if any (for tests). */
export function fastCheckFor(schema: z.ZodType<unknown>): Check | undefined {
  return fastChecks.get(schema);
}
