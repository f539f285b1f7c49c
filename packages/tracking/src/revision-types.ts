import type { ProvenanceBundle } from "./provenance.js";

/** What logRevision returns. */
export interface LoggedRevision {
  /** `"labbook-revision:<revision>"`. */
  id: string;
  /** The run that holds it in the tracking server. */
  runId: string;
  bundle: ProvenanceBundle;
  /** False when the same revision with the same files was already logged (nothing was sent). */
  created: boolean;
}
