/**
 * The merges-beside-writers scenario on local disk, round after round, one line per round: the
 * quick way to check the rare interleavings of `labbook merge` beside writers without the whole
 * suite (about 10-30 s a round on 2 cores).
 *
 *   LABBOOK_RELIABILITY_MERGE_ROUNDS=20 LABBOOK_RELIABILITY_MERGE_WRITERS=6 \
 *     node --import tsx --conditions=@labbook/source reliability/merge-loop.ts
 *
 * Settings: _MERGE_ROUNDS (default 10), _MERGE_WRITERS (6), _MERGE_PER_WRITER (100). Exits 1 when
 * anything was lost, doubled or broken, or a merge failed.
 */
import { rm } from "node:fs/promises";
import { mergeDuringWrites } from "./merges.js";
import { tempDir } from "./scenarios.js";

const setting = (name: string, fallback: number): number => Number(process.env[`LABBOOK_RELIABILITY_${name}`] ?? fallback);
const rounds = setting("MERGE_ROUNDS", 10);
let bad = 0;
let lost = 0;
for (let r = 0; r < rounds; r++) {
  const root = await tempDir("merge-loop");
  try {
    const f = await mergeDuringWrites({
      storage: { kind: "local", root },
      writers: setting("MERGE_WRITERS", 6),
      perWriter: setting("MERGE_PER_WRITER", 100),
      merges: 4,
      perSource: 10,
    });
    lost += f.lost;
    if (f.lost + f.duplicated + f.brokenArtifacts + f.failedMerges + f.failures.length > 0) bad++;
    console.log(
      `round ${r + 1}/${rounds}: written=${f.written} found=${f.found} lost=${f.lost} duplicated=${f.duplicated} brokenArtifacts=${f.brokenArtifacts} failedMerges=${f.failedMerges} ms=${f.ms}${f.failures.length > 0 ? ` ${f.failures.slice(0, 3).join("; ")}` : ""}`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
console.log(`${rounds} rounds, ${bad} with a failure, ${lost} experiments lost`);
process.exitCode = bad > 0 ? 1 : 0;
