import { LabbookError } from "@labbook/core";
import { z } from "zod";

/** The default name of a shared registry file. */
export const REGISTRY_FILE = "labbook.registry.json";

// Normalised (lower case, no "_" or "-") option names that hold secrets. Registry files are shared,
// so these never go in them: credentials come from the environment or a profile.
const CREDENTIAL_KEYS = new Set([
  "accesskeyid",
  "secretaccesskey",
  "sessiontoken",
  "credentials",
  "password",
  "secret",
  "token",
  "apikey",
  "privatekey",
  "key",
  "awsaccesskeyid",
  "awssecretaccesskey",
  "awssessiontoken",
]);

/** True when a storage option's name is one for a secret. */
export function isCredentialOption(name: string): boolean {
  return CREDENTIAL_KEYS.has(name.toLowerCase().replace(/[-_]/g, ""));
}

/** Storage options: plain settings such as region or endpoint, never credentials. */
export const storageOptionsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).superRefine((options, ctx) => {
  for (const name of Object.keys(options)) {
    if (isCredentialOption(name)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `"${name}" is a credential: registry entries are shared, so credentials never go in them; use the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) instead`,
      });
    }
  }
});

export type StorageOptions = z.infer<typeof storageOptionsSchema>;

/** One entry: a location, or a location with storage options. */
export const registryEntrySchema = z.union([
  z.string().min(1),
  z.strictObject({
    location: z.string().min(1),
    storage: storageOptionsSchema.optional(),
  }),
]);

export type RegistryEntry = z.infer<typeof registryEntrySchema>;

/**
 * `labbook.registry.json`: project and repository names to locations (paths relative to the file,
 * file:// or s3:// URLs) and storage options.
 *
 * @example
 * { "projects": { "features": { "location": "s3://team/features", "storage": { "region": "eu-west-1" } } },
 *   "repositories": { "models": "../models" } }
 */
export const registryFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).optional(),
  projects: z.record(z.string().min(1), registryEntrySchema).default({}),
  repositories: z.record(z.string().min(1), registryEntrySchema).default({}),
});

export type RegistryFile = z.infer<typeof registryFileSchema>;

/** Validate registry data; INVALID_FORMAT naming the file and the offending entries otherwise. */
export function parseRegistryFile(data: unknown, where: string): RegistryFile {
  const result = registryFileSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`).join("; ");
  throw new LabbookError("INVALID_FORMAT", `Invalid registry file ${where}: ${problems}.`, { path: where, cause: result.error });
}

/** Refuse credentials in storage options given in code, with the same rule as the file. */
export function checkStorageOptions(options: Record<string, unknown>, where: string): StorageOptions {
  const result = storageOptionsSchema.safeParse(options);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ");
  throw new LabbookError("INVALID_ARGUMENT", `Invalid storage options for ${where}: ${problems}.`, { path: where, cause: result.error });
}
