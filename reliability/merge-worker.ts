/**
 * A merge process for the reliability suite: runs `labbook merge <sources...> --into <target>` (the
 * command's own function, from source) when the parent says "go", so it lands while writers are
 * saving into the target. S3 settings come in as the AWS_* variables a user's shell would set.
 */
import type { StorageSpec } from "./common.js";

export interface MergeWorkerArgs {
  storage: StorageSpec;
  /** Project folders (keys under the storage root). */
  sources: string[];
  into: string;
}

const args = JSON.parse(process.argv[2] ?? "{}") as MergeWorkerArgs;

/** A project folder as the command takes it: a path on disk or an s3:// URL. */
function locationOf(spec: StorageSpec, folder: string): string {
  if (spec.kind === "local") return `${spec.root}/${folder}`;
  return `s3://${spec.bucket}/${spec.prefix}/${folder}`;
}

async function main(): Promise<void> {
  const spec = args.storage;
  if (spec.kind === "s3") {
    process.env.AWS_ENDPOINT_URL_S3 = spec.endpoint;
    process.env.AWS_REGION = spec.region ?? "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = spec.credentials?.accessKeyId ?? "testing";
    process.env.AWS_SECRET_ACCESS_KEY = spec.credentials?.secretAccessKey ?? "testing";
  }
  const { merge } = await import("../packages/labbook/src/cli/merge.js");
  const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
  process.send?.({ type: "ready" });
  await go;
  await merge(
    args.sources.map((s) => locationOf(spec, s)),
    locationOf(spec, args.into),
    { json: true },
  );
  process.send?.({ type: "merged" });
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
