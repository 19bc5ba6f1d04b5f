/**
 * The client's half of exact gcc diagnostics from a builder. gcc prints a source excerpt under
 * each diagnostic by re-opening the file the location names; the builder compiles preprocessed
 * text, so it has those files only if the client ships them (`JobRequest.sources`):
 *
 * 1. every gcc job ships its main source file (`mainSource`): most warnings point there;
 * 2. a result is exact when every file its stderr names (`diag-locations.ts`) is one the builder
 *    reports as placed (`JobResponse.placed`): then it is used as is (`judgeDiagnostics`);
 * 3. otherwise, when the missing files can be shipped (readable regular files, paths a builder
 *    can place, within the limits), the same job goes once more with them added (`withSources`);
 *    if that still is not exact, or they cannot be shipped, the caller compiles locally.
 *
 * Files are read through the name gcc printed, relative to the working directory (so symlinks
 * resolve as they did for the local compiler), and shipped at that name made absolute.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { JobCodecError } from '../errors.ts'
import { type DiagStyle, diagLocaleEnv } from './diag-locale.ts'
import { diagnosticFiles } from './diag-locations.ts'
import { PEDANTIC } from './gcc-preprocessed-mode.ts'
import { encodeRequest, type JobRequest, type JobSources } from './job-codec.ts'
import { packBlob } from './job-compress.ts'
import { jobEnv } from './job-env.ts'
import { JOB_LIMITS } from './job-limits.ts'
import type { PreparedJob } from './remote-job-types.ts'
import { sourcePathProblem } from './source-paths.ts'

/**
 * Arguments under which a builder's gcc output cannot be checked: diagnostic forms that are not
 * plain located text or that read more than excerpts; and warnings that the preprocessed text
 * itself triggers or hides (every line marker is a pedantic "style of line directive"
 * diagnostic, and `-Wsystem-headers` reports the inlined system headers differently), so the
 * builder prints other diagnostics than a local compile would, however complete its files.
 */
const UNSUPPORTED = [
  /^-fdiagnostics-format=(?!text$)/,
  /^-fdiagnostics-generate-patch$/,
  /^-fdiagnostics-parseable-fixits$/,
  /^-pedantic/,
  /^-W(?:error=)?pedantic/,
  /^-W(?:error=)?system-headers/,
  /^-W(?:error=)?unused-macros/,
  /^-W(?:error=)?traditional/,
]

/** Diagnostics that only the preprocessed text can cause: never a local compile's. */
const PP_ARTEFACTS = ['style of line directive is a GCC extension', 'linemarker']

/**
 * Whether gcc's stderr under these arguments can be checked by `judgeDiagnostics`; compiled in
 * the `-fpreprocessed` mode (`gcc-preprocessed-mode.ts`), line markers are no pedantic matter.
 */
export function diagnosticsCheckable(args: readonly string[], preprocessed = false): boolean {
  const unsupported = preprocessed
    ? UNSUPPORTED.filter((re) => !PEDANTIC.some((p) => p.source === re.source))
    : UNSUPPORTED
  return !args.some((a) => unsupported.some((re) => re.test(a)))
}

const readPath = (cwd: string, name: string) => (isAbsolute(name) ? name : `${cwd}/${name}`)

/** Reads a regular file within the size limit, or undefined. */
/** Up to this size a file is read synchronously (see `readSmall`). */
const SYNC_READ_BYTES = 256 * 1024

async function readSmall(path: string, max: number): Promise<Buffer | undefined> {
  // Synchronously when small: a stat and a read of a source file cost less than the four
  // thread-pool round trips of an asynchronous read, which sat on every gcc job's critical path.
  const st = statSync(path, { throwIfNoEntry: false })
  if (st === undefined || !st.isFile() || st.size > max) return undefined
  const data =
    st.size <= SYNC_READ_BYTES ? readIfFile(path) : await readFile(path).catch(() => undefined)
  return data !== undefined && data.length <= max ? data : undefined
}

function readIfFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

/** The main source's bytes, to ship at `inputPath`, or undefined (then none are shipped). */
export function readMainSource(cwd: string, source: string): Promise<Buffer | undefined> {
  return readSmall(readPath(cwd, source), JOB_LIMITS.maxSourcesBytes)
}

/** One blob of all shipped files, in a stable order. */
export async function packSources(files: ReadonlyMap<string, Buffer>): Promise<JobSources> {
  const list = [...files.entries()]
  return {
    files: list.map(([path, data]) => ({ path, size: data.length })),
    data: await packBlob(Buffer.concat(list.map(([, d]) => d))),
  }
}

export type DiagnosticsVerdict =
  | { exact: true }
  /** `missing`: absolute paths to ship in a second round (empty: none can help). */
  | { exact: false; missing: string[] }

/** Whether gcc's stderr only names files the builder had (`placed`), and what is missing. */
export function judgeDiagnostics(
  stderr: Uint8Array,
  cwd: string,
  placed: readonly string[],
): DiagnosticsVerdict {
  const text = Buffer.from(stderr).toString('utf8')
  if (PP_ARTEFACTS.some((a) => text.includes(a))) return { exact: false, missing: [] }
  const have = new Set(placed)
  const missing = new Set<string>()
  for (const name of diagnosticFiles(text)) {
    const abs = isAbsolute(name) ? resolve(name) : resolve(cwd, name)
    if (!have.has(abs)) missing.add(abs)
  }
  return missing.size === 0 ? { exact: true } : { exact: false, missing: [...missing] }
}

/**
 * The files for a second round: what was shipped plus `missing`, read through the names gcc
 * printed. Undefined when any of them cannot be shipped (the caller compiles locally).
 */
export async function withSources(
  req: Pick<JobRequest, 'cwd' | 'inputPath' | 'outputs'>,
  shipped: ReadonlyMap<string, Buffer>,
  missing: readonly string[],
  stderr: Uint8Array,
): Promise<Map<string, Buffer> | undefined> {
  const byAbs = new Map<string, string>()
  for (const name of diagnosticFiles(stderr)) {
    const abs = isAbsolute(name) ? resolve(name) : resolve(req.cwd, name)
    if (!byAbs.has(abs)) byAbs.set(abs, name)
  }
  const files = new Map(shipped)
  let total = [...files.values()].reduce((a, d) => a + d.length, 0)
  const all = [...files.keys(), ...missing]
  for (const abs of missing) {
    if (files.has(abs) || files.size >= JOB_LIMITS.maxSourceFiles) return undefined
    if (sourcePathProblem(abs, req, all) !== undefined) return undefined
    const name = byAbs.get(abs) ?? abs
    const data = await readSmall(readPath(req.cwd, name), JOB_LIMITS.maxSourcesBytes - total)
    if (data === undefined) return undefined
    total += data.length
    files.set(abs, data)
  }
  return files
}

/** The main source file to ship with a gcc job, keyed by `inputPath`, or undefined. */
export async function shipMainSource(
  cwd: string,
  source: string,
  inputPath: string,
): Promise<Map<string, Buffer> | undefined> {
  const data = await readMainSource(cwd, source)
  return data === undefined ? undefined : new Map([[inputPath, data]])
}

/** The same job under a new id with `missing` files added, or undefined if they cannot go. */
export async function resendWithSources(
  job: PreparedJob,
  missing: readonly string[],
  stderr: Uint8Array,
): Promise<PreparedJob | undefined> {
  if (job.fields === undefined || job.shipped === undefined) return undefined
  const files = await withSources(job.fields, job.shipped, missing, stderr)
  if (files === undefined) return undefined
  const jobId = randomUUID()
  const fields: JobRequest = { ...job.fields, jobId, sources: await packSources(files) }
  let request: Uint8Array
  try {
    request = encodeRequest(fields)
  } catch (err) {
    if (err instanceof JobCodecError) return undefined
    throw err
  }
  // A resend goes whole, on a stream of its own: no head went ahead of it.
  return {
    ...job,
    jobId,
    fields,
    shipped: files,
    request,
    input: undefined,
    wireBytes: request.byteLength,
  }
}

/**
 * A gcc job's environment: the client's allow-listed variables with the locale ones replaced by
 * the locale that reproduces how the client's gcc prints (`diag-locale.ts`).
 */
export function gccJobEnv(
  env: Readonly<Record<string, string | undefined>>,
  style: DiagStyle,
): Record<string, string> {
  const out = jobEnv(env)
  if (style === 'foreign') return out
  for (const k of ['LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES']) delete out[k]
  return { ...out, ...diagLocaleEnv(style) }
}
