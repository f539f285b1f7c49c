// Run as its own process by ui-browser.test.ts: another writer appends one experiment and saves,
// as a training script would while the viewer is open.
import { openProject } from "../src/index.js";

const [location, name] = process.argv.slice(2);
if (!location || !name) throw new Error("usage: ui-writer.ts <project> <experiment name>");
const project = await openProject(location, { mode: "a", author: "writer-process" });
await project.log(name, (exp) => {
  exp.logMetric("auc", 0.999);
  exp.logParameter("lr", 0.5);
  exp.tag("live");
});
await project.save();
process.stdout.write(`saved ${name}\n`);
