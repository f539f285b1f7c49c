import { accessSync, constants } from "node:fs";
import path from "node:path";

const NAMES = ["chromium", "chromium-browser"];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Debian's chromium for browser tests (playwright-core launches it with `executablePath`; nothing is
 * ever downloaded): $LABBOOK_CHROMIUM, else `chromium` or `chromium-browser` on PATH.
 * Throws, naming the setup script, when none is installed: a missing browser fails, never skips.
 */
export function findChromium(): string {
  const fromEnv = process.env.LABBOOK_CHROMIUM;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`LABBOOK_CHROMIUM=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of NAMES) {
      const file = path.join(dir, name);
      if (executable(file)) return file;
    }
  }
  throw new Error("No chromium found (LABBOOK_CHROMIUM or chromium on PATH): run bash tooling/ci/setup-chromium.sh first.");
}

/** Flags for headless chromium in containers and on loaded CI machines. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-gpu",
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
];
