/**
 * The umbrella writes its own S3 option types (so a local-only install, without @labbook/storage-s3
 * and the AWS SDK, type-checks); these checks keep them structurally in step with the adapter's.
 * The assertions are on types: `pnpm typecheck` (tsc over src and test) is what fails when the two
 * drift apart (vitest runs the blocks, where expectTypeOf does nothing).
 */
import type { S3StorageOptions } from "@labbook/storage-s3";
import { describe, expectTypeOf, it } from "vitest";
import type { S3LocationOptions } from "../src/index.js";
import type { S3ClientLike, S3Credentials } from "../src/location.js";

type AdapterOptions = Omit<S3StorageOptions, "bucket" | "prefix">;
type S3Client = NonNullable<S3StorageOptions["client"]>;
type CredentialProvider = Extract<NonNullable<S3StorageOptions["credentials"]>, (...args: never[]) => unknown>;
/** The umbrella's fields without `undefined`, as resolveLocation passes them on. */
type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

describe("S3LocationOptions and @labbook/storage-s3's S3StorageOptions", () => {
  it("have the same fields", () => {
    expectTypeOf<keyof S3LocationOptions>().toEqualTypeOf<keyof AdapterOptions>();
  });

  it("take every value of the adapter's options (what a storage-s3 user already holds)", () => {
    expectTypeOf<AdapterOptions>().toExtend<S3LocationOptions>();
    expectTypeOf<S3Client>().toExtend<S3ClientLike>();
    expectTypeOf<CredentialProvider>().toExtend<NonNullable<S3LocationOptions["credentials"]>>();
  });

  it("give the adapter only values it takes (client aside, which the umbrella types loosely)", () => {
    expectTypeOf<Defined<Omit<S3LocationOptions, "client">>>().toExtend<Omit<AdapterOptions, "client">>();
    expectTypeOf<S3Credentials>().toExtend<Exclude<NonNullable<AdapterOptions["credentials"]>, (...args: never[]) => unknown>>();
  });
});
