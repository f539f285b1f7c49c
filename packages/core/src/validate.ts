import type { z } from "zod";
import { LabbookError } from "./errors.js";

/**
 * Check `data` against `schema` without copying it (the parsed objects carry number-spelling memos),
 * and turn the first issue into INVALID_FORMAT naming the file and the field.
 */
export function validateFile<T>(schema: z.ZodType<T>, data: unknown, file: string): T {
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
