import { describe, expect, it } from "vitest";
import { overwriteCrashLocal, sameSlugLocal } from "../../../reliability/loss.js";

// Short settings for CI; `pnpm reliability` runs the same scenarios at full size.
describe("loss scenarios on local disk (short settings)", () => {
  it("writers logging one name (shared slugs) lose, duplicate and mix nothing", async () => {
    const f = await sameSlugLocal({ writers: 4, perWriter: 8 });
    expect(f.written).toBe(32);
    expect(f.sharingSlug).toBeGreaterThan(0);
    expect(f.lost).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.found).toBe(32);
    expect(f.mixed).toBe(0);
    expect(f.brokenArtifacts).toBe(0);
    expect(f.lostReported).toBe(0);
  });

  it("a writer overwriting one artifact in place, killed with SIGKILL, never leaves it broken", async () => {
    const f = await overwriteCrashLocal({ trials: 6 });
    expect(f.failures).toEqual([]);
    expect(f.crashTrials).toBe(6);
    expect(f.corrupt).toBe(0);
    expect(f.lost).toBe(0);
  });
});
