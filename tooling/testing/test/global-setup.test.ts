import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import setup from "../src/global-setup.js";
import { repoRoot } from "../src/python.js";

const KEY = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";
const before = process.env[KEY];
afterEach(() => {
  if (before === undefined) delete process.env[KEY];
  else process.env[KEY] = before;
  vi.restoreAllMocks();
});

/** stderr of a Node process that makes one S3 client (the SDK warns when a client is made). */
function s3ClientStderr(env: NodeJS.ProcessEnv): string {
  const code = "const { S3Client } = await import('@aws-sdk/client-s3'); new S3Client({ region: 'us-east-1' });";
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: path.join(repoRoot, "packages/storage-s3"), env, encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stderr;
}

describe("the AWS SDK's Node-version warning in the test output", () => {
  it("is said once by the global setup, however often it runs, and the test processes inherit the silence", () => {
    delete process.env[KEY];
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    setup();
    setup();
    expect(warn).toHaveBeenCalledTimes(Number(process.versions.node.split(".")[0]) < 22 ? 1 : 0);
    expect(process.env[KEY]).toBe("true");
    expect(s3ClientStderr({ ...process.env })).not.toMatch(/NodeVersionSupportWarning/);
  });

  // On Node 22 and later the SDK has nothing to warn about, so the same process prints nothing there.
  it("would otherwise be printed by every process that makes an S3 client (on Node 20; Node 22+ gets none)", () => {
    const { [KEY]: _silenced, ...env } = process.env;
    const stderr = s3ClientStderr(env);
    if (Number(process.versions.node.split(".")[0]) < 22) expect(stderr).toMatch(/NodeVersionSupportWarning/);
    else expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
