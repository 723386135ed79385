/**
 * Limits: every bound nomine enforces has a name here, so a reader finds them all in one place and a user can
 * override them from the config file. Exceeding one is reported (a problem, or a `limit-exceeded` error), never silent.
 */
export interface Limits {
  /** Bytes of one file held in memory for analysis; larger files are hashed in full but analyzed on this prefix. */
  maxAnalyzedFileBytes: number;
  /** Bytes of file content waiting for or under analysis at once; the layer stream pauses above it. */
  maxAnalysisInFlightBytes: number;
  /** Uncompressed bytes one file may claim before it is treated as a decompression bomb and skipped. */
  maxFileBytes: number;
  /** Uncompressed bytes one layer may expand to before the layer is abandoned as a decompression bomb. */
  maxLayerBytes: number;
  /** Entries one layer may hold. */
  maxLayerEntries: number;
  /** Bytes of a JSON document (manifest, config, index) read into memory. */
  maxJsonBytes: number;
  /** Milliseconds one HTTP request may take to answer before it is abandoned. */
  httpTimeoutMs: number;
  /** Milliseconds without data on a streaming HTTP body before it is abandoned. */
  httpIdleTimeoutMs: number;
  /** Repositories and tags `scan registry` walks at most. */
  maxRegistryRepositories: number;
  maxRegistryTags: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const defaultLimits: Limits = {
  maxAnalyzedFileBytes: 32 * MiB,
  maxAnalysisInFlightBytes: 8 * MiB,
  maxFileBytes: 4 * GiB,
  maxLayerBytes: 32 * GiB,
  maxLayerEntries: 2_000_000,
  maxJsonBytes: 8 * MiB,
  httpTimeoutMs: 30_000,
  httpIdleTimeoutMs: 30_000,
  maxRegistryRepositories: 10_000,
  maxRegistryTags: 1_000,
};
