/**
 * The sandbox's contract: what one sandboxed run needs (`SandboxSpec`) and what it reports
 * (`SandboxResult`). The native helper (`native-sandbox/meshcc-sandbox`) does the isolation;
 * these types are its TypeScript face, shared by the builder and `meshcc doctor`.
 *
 * Paths inside the sandbox are absolute and chosen freely: a job directory can sit at the
 * client's own working directory (`/home/alice/proj/build`) so that objects and debug
 * information match a local compile, and a toolchain tree laid out like a root filesystem is
 * mounted entry by entry at its own paths (see `toolchain-mounts.ts`).
 */

/** One entry of the mount table, applied in order; parents are created as needed. */
export type SandboxMount =
  /** A host directory or file, read-only (no setuid, no devices). */
  | { kind: 'ro'; source: string; path: string }
  /** A host directory or file, writable. As root the helper hands it to the build uid. */
  | { kind: 'rw'; source: string; path: string }
  /** A fresh, size-limited tmpfs (mode 1777). `/tmp` gets one by default (256 MiB). */
  | { kind: 'tmpfs'; path: string; sizeBytes: number }
  /** A symbolic link, e.g. `/lib -> usr/lib` for a merged-/usr toolchain. */
  | { kind: 'symlink'; path: string; to: string }
  /** An empty directory. */
  | { kind: 'dir'; path: string }

export interface SandboxLimits {
  /** Wall-clock deadline; at expiry every process of the sandbox is killed. */
  timeoutMs: number
  /** RLIMIT_CPU per process (SIGXCPU, then SIGKILL a second later). */
  cpuMs: number
  /** RLIMIT_AS and RLIMIT_DATA per process. */
  memBytes: number
  /** RLIMIT_NPROC, counted per sandbox (its own user namespace). */
  nproc: number
  /** RLIMIT_FSIZE: largest file the job may write (SIGXFSZ beyond). */
  fsizeBytes: number
  /** RLIMIT_NOFILE. */
  nofile: number
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  timeoutMs: 300_000,
  cpuMs: 300_000,
  memBytes: 4 * 2 ** 30,
  nproc: 256,
  fsizeBytes: 2 * 2 ** 30,
  nofile: 1024,
}

export interface SandboxSpec {
  /** Program path inside the sandbox, or a name looked up in `env.PATH`. */
  program: string
  args: readonly string[]
  mounts: readonly SandboxMount[]
  /** Working directory inside the sandbox. */
  cwd: string
  /** The whole environment of the program: nothing else is inherited. */
  env: Readonly<Record<string, string>>
  limits?: Partial<SandboxLimits>
  /** As root: the build uid/gid the job runs as (default 2147483000); ignored otherwise. */
  uid?: number
  gid?: number
  /** Cap on each of stdout and stderr kept in memory (default 16 MiB); the rest is dropped. */
  maxOutputBytes?: number
}

/**
 * Isolation reached. 3: all namespaces + seccomp + Landlock; 2: the same without Landlock
 * (kernel < 5.13); 1: no namespaces (refused); 0: no helper or not Linux (refused).
 */
export type SandboxLevel = 0 | 1 | 2 | 3

/** Lowest level at which a builder accepts remote jobs. */
export const MIN_REMOTE_LEVEL: SandboxLevel = 2

/** The helper's status line, as it writes it on its status descriptor. */
export interface SandboxStatus {
  exit: number | null
  signal: string | null
  timedOut: boolean
  aborted: boolean
  /** The payload died of SIGKILL it did not ask for (the kernel's OOM killer); best effort. */
  oom: boolean
  cpuMs: number
  maxRssKb: number
  wallMs: number
  sandboxLevel: SandboxLevel
  landlockAbi: number
  error: string | null
}

export interface SandboxResult {
  /** Exit code, or null when killed by a signal or the deadline. */
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  oom: boolean
  cpuMs: number
  maxRssKb: number
  wallMs: number
  sandboxLevel: SandboxLevel
  stdout: Buffer
  stderr: Buffer
  /** Output beyond `maxOutputBytes` was dropped. */
  outputTruncated: boolean
}
