// `node --import ./module-log-hook.mjs …`: append the URL of every module the program loads (not node:
// builtins) to the file named by LABBOOK_MODULE_LOG, one per line. Used by cli-startup.test.ts.
import { register } from "node:module";

const hooks = `
import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  if (!url.startsWith("node:")) appendFileSync(file, url + "\\n");
  return next(url, context);
}`;

register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: process.env.LABBOOK_MODULE_LOG } });
