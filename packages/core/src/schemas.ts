/**
 * The on-disk shapes of lazyscribe 2.x files. These schemas are the single source of truth: the
 * TypeScript types below are inferred from them. Objects are "loose": fields labbook does not
 * know are kept and written back unchanged.
 */
import { z } from "zod";

const jsonValue: z.ZodType<unknown> = z.unknown();
/** A metric: any JS number, NaN and ±Infinity included (Python writes them; zod's z.number() refuses them). */
const metricValue = z.custom<number>((v) => typeof v === "number", { message: "expected a number" });

export const artifactEntrySchema = z.looseObject({
  created_at: z.string(),
  expiry: z.string().nullable(),
  fname: z.string(),
  handler: z.string(),
  name: z.string(),
  version: z.number().int().nonnegative(),
  /** labbook's own additions; Python drops them on rewrite, so they stay optional. */
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const testRecordSchema = z.looseObject({
  artifacts: z.array(artifactEntrySchema),
  description: z.string().nullable(),
  metrics: z.record(z.string(), metricValue),
  name: z.string(),
  parameters: z.record(z.string(), jsonValue),
});

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

export const projectFileSchema = z.array(experimentRecordSchema);

export const repositoryFileSchema = z.array(artifactEntrySchema);

export const releaseRecordSchema = z.looseObject({
  tag: z.string(),
  artifacts: z.array(z.tuple([z.string(), z.number().int().nonnegative()])),
  created_at: z.string(),
});

export const releasesFileSchema = z.array(releaseRecordSchema);

export type ArtifactEntry = z.infer<typeof artifactEntrySchema>;
export type TestRecord = z.infer<typeof testRecordSchema>;
export type ExperimentRecord = z.infer<typeof experimentRecordSchema>;
export type ReleaseRecord = z.infer<typeof releaseRecordSchema>;
