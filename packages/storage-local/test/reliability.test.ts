import { describe, expect, it } from "vitest";
import { concurrencyLocal, crashLocal } from "../../../reliability/scenarios.js";

// Short settings for CI; `pnpm reliability` runs the same scenarios at full size (8 × 250, 200 kills).
describe("reliability on local disk (short settings)", () => {
  it("8 processes saving into one project lose nothing and duplicate nothing", async () => {
    const f = await concurrencyLocal({ writers: 8, perWriter: 12 });
    expect(f.written).toBe(96);
    expect(f.lost).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.found).toBe(96);
    expect(f.tornReads).toBe(0);
    expect(f.brokenArtifacts).toBe(0);
  });

  it("a writer killed with SIGKILL at random points never leaves less than before, nor a torn file", async () => {
    const f = await crashLocal({ trials: 8 });
    expect(f.failures).toEqual([]);
    expect(f.crashTrials).toBe(8);
    expect(f.corrupt).toBe(0);
    expect(f.lost).toBe(0);
    expect(f.brokenArtifacts).toBe(0);
  });
});
