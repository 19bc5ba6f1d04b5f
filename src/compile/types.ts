/**
 * The contract between the daemon's local socket server and the compile pipeline.
 *
 * A `CompileRequest` is what the native client sent for one `meshcc <compiler> <args…>`
 * invocation (see `src/protocol/local-wire.ts` for the bytes). A `CompileReply` tells the client
 * either to run the real compiler itself (uncacheable invocations, meshcc trouble) or what the
 * compile printed and returned (the daemon has already written the output files).
 */

export interface CompileRequest {
  /** Absolute working directory of the invocation. */
  cwd: string
  /** Absolute path of the real compiler, already resolved by the client (never meshcc itself). */
  compiler: string
  /** Arguments after the compiler, exactly as the build passed them. */
  args: string[]
  /** The client's whole environment. */
  env: Record<string, string>
  /** Whether the client's stdout / stderr are terminals (for -fdiagnostics-color=auto). */
  stdoutIsTty: boolean
  stderrIsTty: boolean
  /** The client's umask, applied to the files the daemon writes for it. */
  umask: number
  /** The client's pid, for logs. */
  pid: number
  /** The client runs commands for the daemon (`RUN` frames, `protocol/client-run-wire.ts`). */
  clientRuns?: boolean
}

export type CompileReply =
  | {
      /** The client must exec the real compiler with its original arguments. */
      kind: 'exec-local'
      /** Why meshcc stood aside (uncacheable reason or internal error code), for logs and stats. */
      reason: string
    }
  | {
      kind: 'done'
      exitCode: number
      stdout: Uint8Array
      stderr: Uint8Array
    }

/** Anything that can serve compile requests (the local cache pipeline now, the mesh later). */
export interface CompileHandler {
  handle(request: CompileRequest, options: CompileOptions): Promise<CompileReply>
  /**
   * Finishes work that outlives replies (cache writes after a miss's answer) until `signal`
   * aborts, then aborts the rest. The daemon calls it when it stops, before releasing its home.
   */
  close?(options: { signal?: AbortSignal }): Promise<void>
}

export interface CompileOptions {
  signal: AbortSignal
  /**
   * Runs a command through the waiting client, in the request's cwd and environment (a fork of
   * the small native client instead of the big daemon), when the client offers it.
   */
  runOnClient?: ClientRunner | undefined
}

/** Runs `argv` (argv[0]: absolute program path) on the client; resolves like `runCompiler`. */
export type ClientRunner = (
  argv: readonly string[],
  options: { signal?: AbortSignal },
) => Promise<{
  exitCode: number
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  ms: number
}>
