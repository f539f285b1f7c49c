import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Row } from "../src/api.js";
import { readLimited } from "../src/api.js";
import { parseCsv, sortRows } from "../src/format.js";

let server: Server;
let base: string;
let bigSent = 0;
let bigClosedEarly = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/small") {
      res.end("héllo");
      return;
    }
    // 64 MiB in 64 KiB chunks, unless the reader stops first.
    const chunk = Buffer.alloc(64 * 1024, 120);
    const send = () => {
      while (bigSent < 64 * 1024 * 1024) {
        bigSent += chunk.byteLength;
        if (!res.write(chunk)) return res.once("drain", send);
      }
      res.end();
    };
    res.on("close", () => {
      bigClosedEarly = bigSent < 64 * 1024 * 1024;
    });
    send();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("artifact preview download", () => {
  it("returns the text of a small artifact", async () => {
    expect(await readLimited(`${base}/small`, 1024)).toBe("héllo");
  });

  it("stops reading an artifact over the limit (entries written by Python have no size)", async () => {
    expect(await readLimited(`${base}/big`, 2 * 1024 * 1024)).toBeUndefined();
    await expect.poll(() => bigClosedEarly, { timeout: 10_000 }).toBe(true);
    expect(bigSent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("table sort and csv preview", () => {
  const row = (slug: string, auc: number | string | undefined): Row =>
    ({ slug, metrics: auc === undefined ? {} : { auc }, parameters: {}, tags: [] }) as unknown as Row;

  it("sorts as labbook ls --sort: numbers, then NaN, absent last, ties in file order", () => {
    const rows = [row("a", 0.5), row("b", undefined), row("c", "NaN"), row("d", 0.9), row("e", 0.5)];
    expect(sortRows(rows, "metrics.auc", false).map((r) => r.slug)).toEqual(["a", "e", "d", "c", "b"]);
    expect(sortRows(rows, "metrics.auc", true).map((r) => r.slug)).toEqual(["d", "a", "e", "c", "b"]);
  });

  it("reads quoted csv fields, doubled quotes and CRLF, up to a row limit", () => {
    expect(parseCsv('id,text\r\n1,"a, ""quoted"" b"\r\n2,plain\n', 10)).toEqual([
      ["id", "text"],
      ["1", 'a, "quoted" b'],
      ["2", "plain"],
    ]);
    expect(parseCsv("h\n1\n2\n3\n", 2)).toEqual([["h"], ["1"]]);
  });
});
