import { spawn } from "node:child_process";
import { isLabbookError } from "@labbook/core";
import { isLoopback, startViewer } from "../ui/server.js";
import { cliContext, UsageError } from "./output.js";

export interface UiOptions {
  host?: string;
  port?: string;
  open?: boolean;
  allowRemote?: boolean;
}

/** Open `url` in the desktop's browser; a failure only prints the address again. */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(command as string, args as string[], { stdio: "ignore", detached: true });
    child.on("error", () => process.stderr.write(`labbook ui: could not start a browser; open ${url} yourself.\n`));
    child.unref();
  } catch {
    process.stderr.write(`labbook ui: could not start a browser; open ${url} yourself.\n`);
  }
}

/** `labbook ui <location>`: serve the viewer until Ctrl-C. */
export async function ui(location: string, options: UiOptions): Promise<void> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && !options.allowRemote) {
    throw new UsageError(
      `refusing to serve on ${host}: only loopback addresses are allowed, since anyone who reaches the viewer can read every artifact. Add --allow-remote to serve on ${host} anyway.`,
    );
  }
  if (options.port !== undefined && (!/^\d+$/.test(options.port) || Number(options.port) > 65535)) {
    throw new UsageError(`--port takes a port number (0-65535), not ${JSON.stringify(options.port)}.`);
  }
  if (!isLoopback(host)) {
    process.stderr.write(
      `labbook ui: WARNING: serving on ${host}, not loopback: anyone who can reach this address can read every experiment and artifact shown. There is no login.\n`,
    );
  }
  let viewer: Awaited<ReturnType<typeof startViewer>>;
  try {
    viewer = await startViewer({
      location,
      host,
      port: options.port === undefined ? 0 : Number(options.port),
      allowRemote: options.allowRemote === true,
      registry: cliContext.registryFile,
    });
  } catch (error) {
    if (isLabbookError(error, "INVALID_ARGUMENT") && /Cannot listen/.test(error.message)) throw new UsageError(error.message);
    throw error;
  }
  const what = viewer.sources.map((s) => `${s.kind} ${s.path}`).join(", ");
  process.stdout.write(`labbook ui: serving ${what}\nlabbook ui: open ${viewer.url} (Ctrl-C to stop)\n`);
  if (options.open) openBrowser(viewer.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      viewer.close().then(resolve, resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
