import { isLabbookError, MemoryStorage } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { describe, expect, it } from "vitest";

const entry = (name: string) =>
  `[\n    {\n        "created_at": "2024-01-01T00:00:00",\n        "expiry": null,\n        "fname": "m.json",\n        "handler": "json",\n        "name": "${name}",\n        "version": 0\n    }\n]`;

/** Bytes a lenient decoder would turn into U+FFFD, so a rewrite would change what was stored. */
function withInvalidByte(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text.replace("NAME", "mX"));
  bytes[bytes.indexOf("X".charCodeAt(0))] = 0xff;
  return bytes;
}

describe("repository.json and releases.json are read as strictly as project.json", () => {
  it("invalid UTF-8 in repository.json is INVALID_FORMAT naming the byte, and the file is left as it was", async () => {
    const storage = new MemoryStorage();
    const bytes = withInvalidByte(entry("NAME"));
    await storage.write("repository.json", bytes);
    const error = await Repository.open("repository.json", { storage }).catch((e: unknown) => e);
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    expect((error as Error).message).toContain("not valid UTF-8");
    expect(await storage.read("repository.json")).toEqual(bytes);
  });

  it("a byte order mark in releases.json is INVALID_FORMAT, and no release is written over it", async () => {
    const storage = new MemoryStorage();
    const repo = await Repository.open("repository.json", { storage, clock: () => new Date("2024-01-02T00:00:00Z") });
    repo.logArtifact("m", { a: 1 }, { handler: "json" });
    await repo.save();
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("[]")]);
    await storage.write("releases.json", bytes);
    await expect(repo.releases()).rejects.toSatisfy((e) => isLabbookError(e, "INVALID_FORMAT") && (e as Error).message.includes("byte order mark"));
    await expect(repo.createRelease("v1")).rejects.toSatisfy((e) => isLabbookError(e, "INVALID_FORMAT"));
    expect(await storage.read("releases.json")).toEqual(bytes);
  });
});
