/**
 * The shapes a remote compile passes through on the client: what the daemon hands the executor
 * (`RemoteJobInput`), the job ready to send (`PreparedJob`, reusable for a retry elsewhere), and
 * what came back (`RemoteOutcome`).
 */
import type { ClientRunner } from '../compile/types.ts'
import type { CacheableInvocation, DepfileRequest } from '../compilers/types.ts'
import type { DiagStyle } from './diag-locale.ts'
import type { JobOutputRequest, JobRequest } from './job-codec.ts'

export interface RemoteJobInput {
  /** The real compiler on this machine (its toolchain is what the builder runs). */
  compiler: string
  inv: CacheableInvocation
  cwd: string
  env: Record<string, string>
  toolchain: string
  /** Arguments to compile with; default `inv.expandedArgs` (e.g. plus a forced colour option). */
  args?: readonly string[]
  /** Depfile to produce; default `inv.depfile`. Pass an injected one to learn the headers. */
  depfile?: DepfileRequest | undefined
  /** Runs the preprocessor through the waiting native client instead of forking the daemon. */
  runPreprocessor?: ClientRunner | undefined
  /** Keep the header list of the preprocessed text (`PreparedJob.files`). */
  wantsFiles?: boolean | undefined
}

export interface PreparedJob {
  jobId: string
  family: CacheableInvocation['family']
  cwd: string
  /** The whole request (for a job with a head, encoded only when first read). */
  readonly request: Uint8Array
  /**
   * The input frame that completes the job's head (`RemoteExecutor.begin`), for a stream on
   * which the head went ahead; absent when no head was made.
   */
  input?: Uint8Array | undefined
  outputs: JobOutputRequest[]
  depfile: { path: string; data: Buffer } | undefined
  /**
   * Every file the compile reads, from the preprocessed text's line markers, when the input
   * asked for them (`wantsFiles`); the text itself is not kept once the job is compressed.
   */
  files: string[] | undefined
  /** The request's fields (gcc: to send it again with more `sources`). */
  fields?: JobRequest | undefined
  /** Source files shipped for gcc's diagnostics, by absolute path. */
  shipped?: ReadonlyMap<string, Buffer> | undefined
  /** gcc: how the client's gcc prints diagnostics here (quotes, language). */
  diagStyle?: DiagStyle | undefined
  /** The arguments the builder runs (to tell whether its diagnostics can be checked). */
  args?: readonly string[] | undefined
  /** Size of the preprocessed text and of the request on the wire. */
  inputBytes: number
  wireBytes: number
  preprocessMs: number
}

export interface RemoteOutcome {
  peer: string
  exitCode: number | null
  signal: string | null
  stdout: Buffer
  stderr: Buffer
  /** Outputs by absolute path (absent optional outputs are missing from the map). */
  outputs: Map<string, Buffer>
  /** The result should not be used as is: compile locally (and report why). */
  suspect: 'gcc-diagnostics' | 'signal' | undefined
  /** gcc diagnostics named files the builder did not have (absolute paths; empty: none helps). */
  missingSources?: string[]
  builderCpuMs: number
  builderWallMs: number
  wallMs: number
}

/** A job's head (`MSG_HEAD`): every field of the request but the input, known before it. */
export interface JobHead {
  jobId: string
  bytes: Uint8Array
}
