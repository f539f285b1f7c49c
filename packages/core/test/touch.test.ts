/** last_updated is formatted once per second of the clock, yet always says the clock's last time. */
import { describe, expect, it } from "vitest";
import { MemoryStorage, Project } from "../src/index.js";

describe("last_updated", () => {
  it("follows the clock across calls within one second and into the next", async () => {
    let now = Date.UTC(2024, 4, 1, 10, 0, 0);
    const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", clock: () => new Date(now) });
    await project.log("run", (e) => {
      e.logMetric("a", 1);
      expect(e.record.last_updated).toBe("2024-05-01T10:00:00");
      now += 400;
      e.logParameter("p", "x");
      expect(e.record.last_updated).toBe("2024-05-01T10:00:00");
      now += 700;
      e.logMetric("b", 2);
      expect(e.record.last_updated).toBe("2024-05-01T10:00:01");
      now += 3_600_000;
      e.tag("t");
      expect(e.record.last_updated).toBe("2024-05-01T11:00:01");
    });
  });

  it("is written again when something else set it since, even within the same millisecond", async () => {
    const now = Date.UTC(2024, 4, 1, 10, 0, 0);
    const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", clock: () => new Date(now) });
    await project.log("run", (e) => {
      e.logMetric("a", 1);
      e.record.last_updated = "2020-01-01T00:00:00";
      e.logMetric("a", 2);
      expect(e.record.last_updated).toBe("2024-05-01T10:00:00");
    });
  });
});
