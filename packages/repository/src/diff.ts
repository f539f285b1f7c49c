import { type HandlerRegistry, LabbookError, type Storage } from "@labbook/core";
import { readSlotBytes } from "@labbook/core/internal";
import { createTwoFilesPatch } from "diff";
import type { Slot } from "./slot.js";

const strictText = new TextDecoder("utf-8", { fatal: true });

/**
 * A unified diff of two saved text versions of `name`, `from` first. Binary artifacts (a binary
 * handler, or bytes that are not UTF-8) are UNSUPPORTED; an unsaved version is ARTIFACT_LOAD.
 */
export async function diffVersions(
  storage: Storage,
  handlers: HandlerRegistry,
  name: string,
  pair: readonly [Slot, Slot],
  fileKey: (slot: Slot) => string,
): Promise<string> {
  const texts: string[] = [];
  for (const slot of pair) {
    const entry = slot.entry;
    if (slot.pending) throw new LabbookError("ARTIFACT_LOAD", `Version ${entry.version} of "${name}" is not saved yet; call save() before diffing.`);
    const key = fileKey(slot);
    const where = storage.describe(key);
    const handler = handlers.find(entry.handler);
    const binaryMessage = `Version ${entry.version} of "${name}" (${where}) is written with the binary handler "${entry.handler}": binary files cannot be compared as text diffs.`;
    if (handler?.binary) throw new LabbookError("UNSUPPORTED", binaryMessage, { path: where });
    const bytes = await readSlotBytes(storage, entry, key);
    try {
      texts.push(strictText.decode(bytes));
    } catch (cause) {
      throw new LabbookError("UNSUPPORTED", binaryMessage, { path: where, cause });
    }
  }
  const [from, to] = pair;
  return createTwoFilesPatch(
    `${name}/${from.entry.fname}`,
    `${name}/${to.entry.fname}`,
    texts[0] as string,
    texts[1] as string,
    `version ${from.entry.version} (${from.entry.created_at})`,
    `version ${to.entry.version} (${to.entry.created_at})`,
  );
}
