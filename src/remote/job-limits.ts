/**
 * Bounds of the remote job protocol. Every length a peer sends is checked against these before
 * anything is allocated for it, so a member (or a bug) cannot make a node buffer gigabytes.
 * Shared by the codec (`job-codec.ts`), the stream layer (`job-protocol.ts`) and the builder.
 */

const MiB = 2 ** 20

export const JOB_LIMITS = {
  /** JSON header of a request or response. */
  maxHeaderBytes: 512 * 1024,
  /** Arguments run on the builder: count, each, and all together (UTF-8 bytes). */
  maxArgs: 4096,
  maxArgBytes: 64 * 1024,
  maxArgsTotalBytes: 256 * 1024,
  /** Absolute paths (cwd, input, outputs). */
  maxPathBytes: 4096,
  /** Preprocessed source: compressed on the wire, and once decompressed. */
  maxInputWireBytes: 48 * MiB,
  maxInputBytes: 384 * MiB,
  /**
   * Source files shipped for gcc's diagnostics (the main file, and headers a second round asks
   * for): count, all together decompressed, and on the wire.
   */
  maxSourceFiles: 64,
  maxSourcesBytes: 32 * MiB,
  maxSourcesWireBytes: 16 * MiB,
  /** Output files the client may ask for (object plus .dwo, .gcno, .su…). */
  maxOutputs: 8,
  /** One output file, decompressed. */
  maxOutputBytes: 512 * MiB,
  /** stdout and stderr each, decompressed. */
  maxStreamBytes: 16 * MiB,
  /** All blobs of a response on the wire. */
  maxResponseWireBytes: 160 * MiB,
  /** Environment entries passed to the compiler (an allow-list, see `job-env.ts`). */
  maxEnv: 32,
  maxEnvValueBytes: 4096,
  /** Identifiers and free text. */
  maxJobIdBytes: 64,
  maxDetailBytes: 4096,
  maxFeatures: 32,
  /** Deadline of one job, ms. */
  minDeadlineMs: 1_000,
  maxDeadlineMs: 3_600_000,
} as const

/** Largest single message on the stream (the length-prefixed frame limit). */
export const MAX_REQUEST_MESSAGE =
  JOB_LIMITS.maxHeaderBytes + JOB_LIMITS.maxInputWireBytes + JOB_LIMITS.maxSourcesWireBytes + 16
export const MAX_RESPONSE_MESSAGE = JOB_LIMITS.maxHeaderBytes + JOB_LIMITS.maxResponseWireBytes + 16

/**
 * The receive window each side grants on a job stream when the job starts (`mesh/stream-window.ts`):
 * the client with its reservation (for the object coming back), the builder with its grant (for
 * the input). A compressed C++ unit or object of up to this size then goes in one burst instead
 * of waiting for window updates every 128 KiB.
 */
export const JOB_STREAM_WINDOW_BYTES = 2 * MiB
