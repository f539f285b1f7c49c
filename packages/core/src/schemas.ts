/**
 * The on-disk shapes of lazyscribe 2.x files. These schemas are the single source of truth: the
 * TypeScript types below are inferred from them. Objects are "loose": fields labbook does not
 * know are kept and written back unchanged.
 */
import { z } from "zod";
import { isCompleteExperimentRecord, isStoredProjectFile, isStoredRepositoryFile, registerFastCheck } from "./fast-checks.js";

const jsonValue: z.ZodType<unknown> = z.unknown();
/** A metric: any JS number, NaN and ±Infinity included (Python writes them; zod's z.number() refuses them). */
const metricValue = z.custom<number>((v) => typeof v === "number", { message: "expected a number" });

/**
 * An artifact entry as stored. lazyscribe requires `name`, `handler` and `created_at` and fills in
 * the rest when it loads a file (`expiry` null, `version` 0, `fname` from the name, date and the
 * handler's suffix); labbook does the same on read (see defaults.ts) and writes them all.
 */
export const storedArtifactEntrySchema = z.looseObject({
  created_at: z.string(),
  expiry: z.string().nullable().optional(),
  fname: z.string().optional(),
  handler: z.string(),
  name: z.string(),
  version: z.number().int().nonnegative().optional(),
  /** labbook's own additions; Python drops them on rewrite, so they stay optional. */
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** An artifact entry with every field lazyscribe writes. */
export const artifactEntrySchema = storedArtifactEntrySchema.required({ expiry: true, fname: true, version: true });

/** A test as stored: only `name` is required (lazyscribe's Test defaults the rest). */
export const storedTestRecordSchema = z.looseObject({
  artifacts: z.array(storedArtifactEntrySchema).optional(),
  description: z.string().nullable().optional(),
  metrics: z.record(z.string(), metricValue).optional(),
  name: z.string(),
  parameters: z.record(z.string(), jsonValue).optional(),
});

export const testRecordSchema = z.looseObject({
  artifacts: z.array(artifactEntrySchema),
  description: z.string().nullable(),
  metrics: z.record(z.string(), metricValue),
  name: z.string(),
  parameters: z.record(z.string(), jsonValue),
});

/**
 * An experiment as stored: lazyscribe's loader needs `name`, `created_at` and `last_updated`; its
 * Experiment class defaults every other field (author: the reading user, last_updated_by: the
 * author, slugs from the name and created_at, empty lists and objects).
 */
export const storedExperimentRecordSchema = z.looseObject({
  artifacts: z.array(storedArtifactEntrySchema).optional(),
  author: z.string().optional(),
  created_at: z.string(),
  dependencies: z.array(z.string()).optional(),
  last_updated: z.string(),
  last_updated_by: z.string().optional(),
  metrics: z.record(z.string(), metricValue).optional(),
  name: z.string(),
  parameters: z.record(z.string(), jsonValue).optional(),
  short_slug: z.string().optional(),
  slug: z.string().optional(),
  tags: z.array(z.string()).optional(),
  tests: z.array(storedTestRecordSchema).optional(),
});

/** An experiment with every field lazyscribe writes (what labbook holds in memory and saves). */
export const experimentRecordSchema = z.looseObject({
  artifacts: z.array(artifactEntrySchema),
  author: z.string(),
  created_at: z.string(),
  dependencies: z.array(z.string()),
  last_updated: z.string(),
  last_updated_by: z.string(),
  metrics: z.record(z.string(), metricValue),
  name: z.string(),
  parameters: z.record(z.string(), jsonValue),
  short_slug: z.string(),
  slug: z.string(),
  tags: z.array(z.string()),
  tests: z.array(testRecordSchema),
});

/** project.json as lazyscribe reads it: what labbook accepts (missing fields are filled in by defaults.ts). */
export const storedProjectFileSchema = z.array(storedExperimentRecordSchema);

/** project.json as labbook and lazyscribe write it (every field present). */
export const projectFileSchema = z.array(experimentRecordSchema);

/** repository.json as lazyscribe reads it: what labbook accepts (missing fields are filled in by defaults.ts). */
export const storedRepositoryFileSchema = z.array(storedArtifactEntrySchema);

/** repository.json as labbook and lazyscribe write it (every field present). */
export const repositoryFileSchema = z.array(artifactEntrySchema);

registerFastCheck(experimentRecordSchema, isCompleteExperimentRecord);
registerFastCheck(storedProjectFileSchema, isStoredProjectFile);
registerFastCheck(storedRepositoryFileSchema, isStoredRepositoryFile);

export const releaseRecordSchema = z.looseObject({
  tag: z.string(),
  artifacts: z.array(z.tuple([z.string(), z.number().int().nonnegative()])),
  created_at: z.string(),
});

export const releasesFileSchema = z.array(releaseRecordSchema);

export type ArtifactEntry = z.infer<typeof artifactEntrySchema>;
export type StoredArtifactEntry = z.infer<typeof storedArtifactEntrySchema>;
export type StoredExperimentRecord = z.infer<typeof storedExperimentRecordSchema>;
export type TestRecord = z.infer<typeof testRecordSchema>;
export type ExperimentRecord = z.infer<typeof experimentRecordSchema>;
export type ReleaseRecord = z.infer<typeof releaseRecordSchema>;
