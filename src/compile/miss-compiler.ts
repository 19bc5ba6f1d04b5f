/**
 * The seam where a miss's compile may run elsewhere: `compileAndStore` hands the compile it is
 * about to run to the `compileMiss` service (when the daemon set one), which either runs it here
 * (`local()`) or on a member of the mesh (`remote-miss.ts`). Either way it leaves the outputs
 * (and the depfile, including one the pipeline injected to learn the headers) where the local
 * compile would have, and returns what the compiler printed, so the rest of the miss path
 * (reading the outputs, the header list, storing) is the same for both.
 */
import type { RequestContext } from './context.ts'
import type { RunResult } from './run-compiler.ts'

export interface MissCompile {
  /** Arguments of the local compile (the request's, plus any forced colour and injected -MD). */
  args: readonly string[]
  /** The depfile the pipeline injected (`-MD -MF path`) to learn the headers, if it did. */
  injectedDepfile: string | undefined
  /**
   * The header list must come from the compile (no depfile lists them all): a remote compile
   * returns the files its preprocessing entered as `MissRun.files`, sparing a dependency pass.
   */
  wantsFiles?: boolean
  /** Runs the compile on this machine. */
  local: () => Promise<RunResult>
}

/** What ran, and where (`local` when absent). */
export type MissRun = RunResult & {
  where?: 'local' | 'remote'
  /** Every file the compile read (its preprocessing's line markers), when asked for. */
  files?: string[]
  /**
   * The injected depfile's bytes, when the compile path had them in memory and so did not write
   * the file (a remote compile: its depfile comes from the client's preprocessing).
   */
  injectedDepfileText?: Buffer
}

export type MissCompiler = (ctx: RequestContext, job: MissCompile) => Promise<MissRun>
