export { assertBucketName, DEFAULT_S3_CONNECTION_TIMEOUT, DEFAULT_S3_REQUEST_TIMEOUT, S3Storage, type S3StorageOptions } from "./s3-storage.js";
