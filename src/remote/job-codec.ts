/**
 * The bytes of `/meshcc/job/1.0.0`: one request, keepalive frames, one response. Each message is
 * `type (u8) · header length (u32 BE) · header (UTF-8 JSON) · blobs`, the blobs concatenated in
 * the order the header lists them, each zstd-compressed with its decompressed size declared.
 *
 * Decoding is strict where it matters and lenient where upgrades need it: every field the
 * receiver uses is type-checked and bounded (`job-limits.ts`), paths must be absolute and
 * normalised, blob lengths must add up exactly; unknown header fields are ignored, so a newer
 * peer may add optional ones. `v` is the message version (a receiver refuses a version it does
 * not know and says which it speaks); `features` lists optional capabilities of the sender.
 *
 * The client builds the depfile itself from its local preprocessing run (it holds the headers
 * and the make-target rules); the builder only produces the compiler's outputs.
 */
import { JobCodecError } from '../errors.ts'
import { absPath, args, arr, bool, env, hex64, int, jobId, obj, oneOf, str } from './job-fields.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { checkSources, sourcesField } from './job-sources-field.ts'

/** 2: gcc jobs carry the sources their diagnostics read (`sources`, `placed`); v1 peers refuse them. */
export const JOB_MESSAGE_VERSION = 2

export const MSG_REQUEST = 1
export const MSG_KEEPALIVE = 2
export const MSG_RESPONSE = 3
/**
 * A request without its input, sent while the client still preprocesses, to a builder whose
 * grant offers `early-start` (`reserve-codec.ts`): the builder sets the job up and starts the
 * compiler, which waits for its input in its first read. The input follows as `MSG_INPUT`.
 */
export const MSG_HEAD = 4
/** The input of the job whose `MSG_HEAD` came before: the job id and one blob. */
export const MSG_INPUT = 5

export type JobFamily = 'gcc' | 'clang'
export type JobLanguage = 'c' | 'c++' | 'objective-c' | 'objective-c++'
/** Which of the toolchain's drivers runs the job (`gcc` vs `g++`, `clang` vs `clang++`). */
export type JobDriver = JobLanguage

const FAMILIES: readonly string[] = ['gcc', 'clang']
const LANGUAGES: readonly string[] = ['c', 'c++', 'objective-c', 'objective-c++']
const OUTPUT_ROLES: readonly string[] = [
  'object',
  'split-dwarf',
  'coverage-notes',
  'stack-usage',
  'opt-record',
  'callgraph-info',
]

/** A compressed blob with its decompressed size. */
export interface Blob {
  size: number
  data: Uint8Array
}

/** No bytes: a job head's input, a response's empty streams. */
export const EMPTY_BLOB: Blob = Object.freeze({ size: 0, data: new Uint8Array(0) })

export interface JobOutputRequest {
  /** Absolute path of the file the compiler writes (as on the client). */
  path: string
  role: string
  /** An extra output a compiler may legitimately skip. */
  optional: boolean
}

/**
 * Source files gcc reads only to print diagnostics (excerpts, display columns), all in one blob:
 * the files' bytes concatenated in list order. The one at `inputPath` is the main source file
 * itself; the builder serves the compiler the preprocessed text at that path first, then this.
 */
export interface JobSources {
  files: { path: string; size: number }[]
  data: Blob
}

export interface JobRequest {
  v: number
  features: string[]
  jobId: string
  /** Toolchain id (sha256 of its manifest). */
  toolchain: string
  family: JobFamily
  language: JobLanguage
  driver: JobDriver
  /** Arguments for the driver, relative paths as on the client. */
  args: string[]
  /** The client's working directory; the builder runs the compiler at this very path. */
  cwd: string
  /** Absolute path where the preprocessed source is placed (the source's own path). */
  inputPath: string
  input: Blob
  outputs: JobOutputRequest[]
  /** Wall-clock budget of the compile on the builder. */
  deadlineMs: number
  /** Environment entries for the compiler (allow-listed by the client and the builder). */
  env: Record<string, string>
  /** gcc only: source files for diagnostics (optional; older builders ignore it). */
  sources?: JobSources | undefined
  /**
   * gcc only: compile the input as `-fpreprocessed -fdirectives-only` text (it then holds the
   * `<built-in>` definitions), placed elsewhere, with `args[sourceArg]` (the source) pointing at
   * it (`gcc-preprocessed-mode.ts`).
   */
  preprocessed?: { sourceArg: number } | undefined
}

export type JobStatus =
  /** The compiler ran; its exit code, output and files follow. */
  | 'compiled'
  /** No free slot: try another member. */
  | 'busy'
  /** The builder's sandbox does not work, or refused this job's paths. */
  | 'refused'
  /** The builder lacks the toolchain and could not get it. */
  | 'toolchain-missing'
  /** The request was malformed or of an unknown version. */
  | 'bad-request'
  /** The compile did not finish within its deadline. */
  | 'deadline'
  /** Anything else on the builder's side (sandbox setup, crash of the helper, I/O). */
  | 'failed'

const STATUSES: readonly string[] = [
  'compiled',
  'busy',
  'refused',
  'toolchain-missing',
  'bad-request',
  'deadline',
  'failed',
]

export interface JobOutputFile {
  path: string
  /** Absent: an optional output the compiler did not write. */
  file: Blob | undefined
}

export interface JobResponse {
  v: number
  features: string[]
  jobId: string
  status: JobStatus
  detail: string
  /** Present when `status` is `compiled`. */
  exitCode: number | null
  signal: string | null
  stdout: Blob
  stderr: Blob
  outputs: JobOutputFile[]
  cpuMs: number
  wallMs: number
  /** Shipped sources the builder placed where the compiler could read them (absent: none). */
  placed: string[]
}

/** A response that carries no compile: BUSY, a refusal, a failure. */
export function emptyResponse(jobId: string, status: JobStatus, detail: string): JobResponse {
  return {
    v: JOB_MESSAGE_VERSION,
    features: [],
    jobId,
    status,
    detail: detail.slice(0, 1000),
    exitCode: null,
    signal: null,
    stdout: EMPTY_BLOB,
    stderr: EMPTY_BLOB,
    outputs: [],
    cpuMs: 0,
    wallMs: 0,
    placed: [],
  }
}

// ---- encoding -------------------------------------------------------------------------------

function frame(type: number, header: unknown, blobs: Uint8Array[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  if (json.length > JOB_LIMITS.maxHeaderBytes)
    throw new JobCodecError(`job header of ${json.length} bytes is over the limit`)
  const total = 5 + json.length + blobs.reduce((a, b) => a + b.byteLength, 0)
  const out = new Uint8Array(total)
  out[0] = type
  new DataView(out.buffer).setUint32(1, json.length)
  out.set(json, 5)
  let off = 5 + json.length
  for (const b of blobs) {
    out.set(b, off)
    off += b.byteLength
  }
  return out
}

const blobHeader = (b: Blob) => ({ size: b.size, clen: b.data.byteLength })

export function encodeRequest(r: JobRequest): Uint8Array {
  return encodeJob(MSG_REQUEST, r)
}

/** The request's head: every field but the input (`MSG_HEAD`). */
export function encodeHead(r: JobRequest): Uint8Array {
  return encodeJob(MSG_HEAD, { ...r, input: EMPTY_BLOB })
}

/** The input that completes the head of job `jobId` (`MSG_INPUT`). */
export function encodeInput(jobId: string, input: Blob): Uint8Array {
  checkInput(input)
  return frame(MSG_INPUT, { v: JOB_MESSAGE_VERSION, jobId, input: blobHeader(input) }, [input.data])
}

function encodeJob(type: number, r: JobRequest): Uint8Array {
  checkRequest(r)
  const { input, sources, ...rest } = r
  if (sources === undefined) return frame(type, { ...rest, input: blobHeader(input) }, [input.data])
  const srcHeader = { files: sources.files, ...blobHeader(sources.data) }
  return frame(type, { ...rest, input: blobHeader(input), sources: srcHeader }, [
    input.data,
    sources.data.data,
  ])
}

export function encodeResponse(r: JobResponse): Uint8Array {
  checkResponse(r)
  const { stdout, stderr, outputs, ...rest } = r
  const blobs = [stdout.data, stderr.data]
  const outs = outputs.map((o) => {
    if (o.file === undefined) return { path: o.path, absent: true }
    blobs.push(o.file.data)
    return { path: o.path, ...blobHeader(o.file) }
  })
  return frame(
    MSG_RESPONSE,
    { ...rest, stdout: blobHeader(stdout), stderr: blobHeader(stderr), outputs: outs },
    blobs,
  )
}

export function encodeKeepalive(): Uint8Array {
  return Uint8Array.of(MSG_KEEPALIVE)
}

// ---- decoding -------------------------------------------------------------------------------

/** The message type of a received frame. */
export function messageType(msg: Uint8Array): number {
  if (msg.byteLength === 0) throw new JobCodecError('empty job message')
  return msg[0] as number
}

function splitFrame(
  msg: Uint8Array,
  type: number,
): { header: Record<string, unknown>; rest: Uint8Array } {
  if (messageType(msg) !== type)
    throw new JobCodecError(`expected job message type ${type}, got ${msg[0]}`)
  if (msg.byteLength < 5) throw new JobCodecError('truncated job message')
  const len = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(1)
  if (len > JOB_LIMITS.maxHeaderBytes || 5 + len > msg.byteLength)
    throw new JobCodecError(`bad job header length ${len}`)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(msg.subarray(5, 5 + len)))
  } catch (cause) {
    throw new JobCodecError('job header is not UTF-8 JSON', { cause })
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new JobCodecError('job header is not an object')
  return { header: header as Record<string, unknown>, rest: msg.subarray(5 + len) }
}

class BlobReader {
  #rest: Uint8Array
  #off = 0
  constructor(rest: Uint8Array) {
    this.#rest = rest
  }
  take(field: string, spec: unknown, maxSize: number, maxWire: number): Blob {
    const o = obj(field, spec)
    const size = int(`${field}.size`, o['size'], 0, maxSize)
    const clen = int(`${field}.clen`, o['clen'], 0, maxWire)
    if (this.#off + clen > this.#rest.byteLength)
      throw new JobCodecError(`${field}: blob runs past the end of the message`)
    const data = this.#rest.subarray(this.#off, this.#off + clen)
    this.#off += clen
    return { size, data }
  }
  end(): void {
    if (this.#off !== this.#rest.byteLength)
      throw new JobCodecError(`${this.#rest.byteLength - this.#off} stray bytes after the blobs`)
  }
}

/** A head (`MSG_HEAD`): a request whose input is empty, to be completed by `decodeInput`. */
export function decodeHead(msg: Uint8Array): JobRequest {
  const r = decodeJob(msg, MSG_HEAD)
  if (r.input.size !== 0 || r.input.data.byteLength !== 0)
    throw new JobCodecError('a job head carries no input')
  return r
}

/** An input (`MSG_INPUT`); the caller checks its job id against the head's. */
export function decodeInput(msg: Uint8Array): { jobId: string; input: Blob } {
  const { header: h, rest } = splitFrame(msg, MSG_INPUT)
  version(h)
  const blobs = new BlobReader(rest)
  const out = {
    jobId: jobId(h['jobId']),
    input: blobs.take('input', h['input'], JOB_LIMITS.maxInputBytes, JOB_LIMITS.maxInputWireBytes),
  }
  blobs.end()
  return out
}

export function decodeRequest(msg: Uint8Array): JobRequest {
  return decodeJob(msg, MSG_REQUEST)
}

function decodeJob(msg: Uint8Array, type: number): JobRequest {
  const { header: h, rest } = splitFrame(msg, type)
  const v = version(h)
  const blobs = new BlobReader(rest)
  const outputsRaw = arr('outputs', h['outputs'], JOB_LIMITS.maxOutputs)
  const r: JobRequest = {
    v,
    features: features(h),
    jobId: jobId(h['jobId']),
    toolchain: hex64('toolchain', h['toolchain']),
    family: oneOf('family', h['family'], FAMILIES) as JobFamily,
    language: oneOf('language', h['language'], LANGUAGES) as JobLanguage,
    driver: oneOf('driver', h['driver'], LANGUAGES) as JobDriver,
    args: args(h['args']),
    cwd: absPath('cwd', h['cwd']),
    inputPath: absPath('inputPath', h['inputPath']),
    input: blobs.take('input', h['input'], JOB_LIMITS.maxInputBytes, JOB_LIMITS.maxInputWireBytes),
    outputs: outputsRaw.map((x, i) => {
      const o = obj(`outputs[${i}]`, x)
      return {
        path: absPath(`outputs[${i}].path`, o['path']),
        role: oneOf(`outputs[${i}].role`, o['role'], OUTPUT_ROLES),
        optional: bool(`outputs[${i}].optional`, o['optional']),
      }
    }),
    deadlineMs: int(
      'deadlineMs',
      h['deadlineMs'],
      JOB_LIMITS.minDeadlineMs,
      JOB_LIMITS.maxDeadlineMs,
    ),
    env: env(h['env']),
  }
  if (h['sources'] !== undefined)
    r.sources = sourcesField(h['sources'], r, (o) =>
      blobs.take('sources', o, JOB_LIMITS.maxSourcesBytes, JOB_LIMITS.maxSourcesWireBytes),
    )
  if (h['preprocessed'] !== undefined) {
    const p = obj('preprocessed', h['preprocessed'])
    r.preprocessed = {
      sourceArg: int('preprocessed.sourceArg', p['sourceArg'], 0, r.args.length - 1),
    }
  }
  blobs.end()
  checkRequest(r)
  return r
}

export function decodeResponse(msg: Uint8Array): JobResponse {
  const { header: h, rest } = splitFrame(msg, MSG_RESPONSE)
  const v = version(h)
  const blobs = new BlobReader(rest)
  const S = JOB_LIMITS.maxStreamBytes
  const W = JOB_LIMITS.maxResponseWireBytes
  const r: JobResponse = {
    v,
    features: features(h),
    jobId: jobId(h['jobId']),
    status: oneOf('status', h['status'], STATUSES) as JobStatus,
    detail: str('detail', h['detail'] ?? '', JOB_LIMITS.maxDetailBytes),
    exitCode: h['exitCode'] === null ? null : int('exitCode', h['exitCode'], 0, 255),
    signal: h['signal'] === null ? null : str('signal', h['signal'], 32),
    stdout: blobs.take('stdout', h['stdout'], S, W),
    stderr: blobs.take('stderr', h['stderr'], S, W),
    outputs: arr('outputs', h['outputs'], JOB_LIMITS.maxOutputs).map((x, i) => {
      const o = obj(`outputs[${i}]`, x)
      const path = absPath(`outputs[${i}].path`, o['path'])
      if (o['absent'] === true) return { path, file: undefined }
      return { path, file: blobs.take(`outputs[${i}]`, o, JOB_LIMITS.maxOutputBytes, W) }
    }),
    cpuMs: int('cpuMs', h['cpuMs'], 0, 2 ** 40),
    wallMs: int('wallMs', h['wallMs'], 0, 2 ** 40),
    placed:
      h['placed'] === undefined
        ? []
        : arr('placed', h['placed'], JOB_LIMITS.maxSourceFiles).map((p, i) =>
            absPath(`placed[${i}]`, p),
          ),
  }
  blobs.end()
  checkResponse(r)
  return r
}

// ---- semantic checks shared by both directions ------------------------------------------------

function checkRequest(r: JobRequest): void {
  if (r.outputs.length === 0) throw new JobCodecError('a job must ask for at least its object')
  const seen = new Set<string>([r.inputPath])
  for (const o of r.outputs) {
    if (seen.has(o.path)) throw new JobCodecError(`path used twice in a job: ${o.path}`)
    seen.add(o.path)
  }
  checkInput(r.input)
  if (r.sources !== undefined) checkSources(r.sources, r)
  if (
    r.preprocessed !== undefined &&
    !(
      Number.isSafeInteger(r.preprocessed.sourceArg) &&
      r.args[r.preprocessed.sourceArg] !== undefined
    )
  )
    throw new JobCodecError('preprocessed.sourceArg is not an argument')
}

function checkInput(input: Blob): void {
  if (input.data.byteLength > JOB_LIMITS.maxInputWireBytes || input.size > JOB_LIMITS.maxInputBytes)
    throw new JobCodecError('preprocessed input is over the limit')
}

function checkResponse(r: JobResponse): void {
  if (r.status === 'compiled' && r.exitCode === null && r.signal === null)
    throw new JobCodecError('a compiled response needs an exit code or a signal')
  const wire =
    r.stdout.data.byteLength +
    r.stderr.data.byteLength +
    r.outputs.reduce((a, o) => a + (o.file?.data.byteLength ?? 0), 0)
  if (wire > JOB_LIMITS.maxResponseWireBytes) throw new JobCodecError('response is over the limit')
  if (r.placed.length > JOB_LIMITS.maxSourceFiles)
    throw new JobCodecError('placed: too many entries')
}

function version(h: Record<string, unknown>): number {
  const v = int('v', h['v'], 1, 255)
  if (v !== JOB_MESSAGE_VERSION)
    throw new JobCodecError(
      `job message version ${v} is not supported (this node speaks ${JOB_MESSAGE_VERSION})`,
    )
  return v
}

function features(h: Record<string, unknown>): string[] {
  if (h['features'] === undefined) return []
  return arr('features', h['features'], JOB_LIMITS.maxFeatures).map((f, i) =>
    str(`features[${i}]`, f, 64),
  )
}
