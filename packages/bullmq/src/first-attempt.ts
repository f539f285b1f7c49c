import type { Job } from "bullmq";

/** The job hash field where the first attempt's start (epoch ms) is kept; BullMQ ignores fields it does not know. */
export const FIRST_ATTEMPT_FIELD = "labbookFirstAttemptAt";

interface JobQueueAccess {
  waitUntilReady(): Promise<{ hsetnx(key: string, field: string, value: string): Promise<number>; hget(key: string, field: string): Promise<string | null> }>;
  toKey(type: string): string;
}

/**
 * When `job`'s first attempt started: set once (HSETNX) in the job's own Redis hash by whichever
 * attempt runs first, read back by every later one, so a retry on another machine gets the same
 * slug. BullMQ updates `processedOn` on every attempt, and `timestamp` is when the job was added
 * (perhaps long before it ran), so neither will do.
 */
export async function firstAttemptAt(job: Job, now: () => number = Date.now): Promise<Date> {
  // The job's queue (and its Redis connection) is a protected member of Job in BullMQ 5.
  const queue = (job as unknown as { queue: JobQueueAccess }).queue;
  const client = await queue.waitUntilReady();
  const key = queue.toKey(String(job.id));
  await client.hsetnx(key, FIRST_ATTEMPT_FIELD, String(now()));
  const stored = Number(await client.hget(key, FIRST_ATTEMPT_FIELD));
  return new Date(Number.isFinite(stored) && stored > 0 ? stored : now());
}
