import type { z } from "zod";
import { LabbookError } from "./errors.js";
import { fastCheckFor, isStoredProjectFile } from "./fast-checks.js";
import type * as Schemas from "./schemas.js";
import type { StoredExperimentRecord } from "./schemas.js";

export { isCompleteExperimentRecord, isStoredProjectFile, isStoredRepositoryFile } from "./fast-checks.js";

let schemas: typeof Schemas | undefined;

/** @internal The zod schemas, imported (with zod) on first use. */
export async function loadSchemas(): Promise<typeof Schemas> {
  schemas ??= await import("./schemas.js");
  return schemas;
}

/**
 * @internal The schemas for synchronous code, once loadSchemas() has run (Project.open does it for
 * a project that can write: its appends and held records are validated synchronously).
 */
export function loadedSchemas(): typeof Schemas | undefined {
  return schemas;
}

/** @internal loadedSchemas(), for code that cannot run without them. */
export function requireSchemas(): typeof Schemas {
  if (!schemas) throw new Error("labbook internal error: the record schemas were used before loadSchemas() loaded them.");
  return schemas;
}

/**
 * project.json's parsed content as stored records: the fast check alone when the file is valid
 * (zod stays unloaded), zod's precise INVALID_FORMAT when it is not.
 */
export async function validateStoredProjectFile(data: unknown, file: string): Promise<StoredExperimentRecord[]> {
  if (isStoredProjectFile(data)) return data as StoredExperimentRecord[];
  return validateFile((await loadSchemas()).storedProjectFileSchema, data, file);
}

/**
 * Check `data` against `schema` without copying it (the parsed objects carry number-spelling memos),
 * and turn the first issue into INVALID_FORMAT naming the file and the field.
 */
export function validateFile<T>(schema: z.ZodType<T>, data: unknown, file: string): T {
  if (fastCheckFor(schema)?.(data)) return data as T;
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
