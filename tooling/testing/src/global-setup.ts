/**
 * vitest's global setup (runs once, in the main process, before any test file). The AWS SDK warns
 * once per process on Node < 22 that its 2027 releases will need Node 22; with a process per test
 * file that was one copy per S3 test file. Say it once here and silence it in the test processes.
 */
export default function setup(): void {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22 && process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED !== "true") {
    console.warn(
      `Note: the AWS SDK for JavaScript v3 says its releases after the first week of January 2027 need Node >= 22 (this is Node ${process.versions.node}); its per-process warning is silenced in the test processes.`,
    );
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
}
