/**
 * Accepting a builder's response on the client: it must answer *this* job (its id; only BUSY and
 * refusals may come before the builder read the request, as `-`), its status maps to a typed
 * error the scheduler acts on, and a compiled result must carry exactly the outputs asked for,
 * each decompressed within its declared size. A gcc result that printed diagnostics is exact only
 * when every file they name was placed in the builder's sandbox (`diag-sources.ts`); otherwise it
 * is `suspect` and lists what was `missingSources` (the executor may send the job again with
 * those files, else the caller compiles locally). Anything gcc printed on stdout is suspect.
 */
import { BuilderBusyError, BuilderFailedError } from '../errors.ts'
import type { InfraFailure } from '../scheduler/types.ts'
import type { JobResponse } from './job-codec.ts'
import { UTF8_LOCALE_FEATURE } from './diag-locale.ts'
import { diagnosticsCheckable, judgeDiagnostics } from './diag-sources.ts'
import { PREPROCESSED_FEATURE } from './gcc-preprocessed-mode.ts'
import { unpackBlob } from './job-compress.ts'
import type { PreparedJob, RemoteOutcome } from './remote-job-types.ts'

export async function acceptResponse(
  job: PreparedJob,
  peer: string,
  r: JobResponse,
  wallMs: number,
): Promise<RemoteOutcome> {
  const fail = (failure: InfraFailure, msg: string) =>
    new BuilderFailedError(failure, `${peer}: ${msg}${r.detail ? ` (${r.detail})` : ''}`)
  const anonymous =
    r.jobId === '-' && (r.status === 'busy' || r.status === 'refused' || r.status === 'bad-request')
  if (r.jobId !== job.jobId && !anonymous)
    throw fail('protocol', `answered job ${r.jobId}, not ${job.jobId}`)
  switch (r.status) {
    case 'busy':
      throw new BuilderBusyError(`${peer} has no free slot`)
    case 'refused':
    case 'failed':
      throw fail('sandbox-refused', `could not run the job`)
    case 'toolchain-missing':
      throw fail('toolchain-missing', 'lacks the toolchain')
    case 'bad-request':
      throw fail('protocol', 'refused the request as malformed')
    case 'deadline':
      throw fail('deadline', 'compile ran past its deadline')
    case 'compiled':
      break
  }
  const outputs = new Map<string, Buffer>()
  // Every blob decompresses at once (their thread-pool round trips overlap); the checks below
  // run in the same order as before, and a failed blob fails the response as before.
  const settle = (p: Promise<Buffer>) => {
    p.catch(() => {}) // awaited below, unless an earlier check throws first
    return p
  }
  try {
    const stdoutP = settle(unpackBlob(r.stdout, 'stdout'))
    const stderrP = settle(unpackBlob(r.stderr, 'stderr'))
    const seen = new Set<string>()
    const unpacking: [string, Promise<Buffer>][] = []
    for (const o of r.outputs) {
      const asked = job.outputs.find((x) => x.path === o.path)
      if (asked === undefined || seen.has(o.path))
        throw fail('protocol', `sent unrequested output ${o.path}`)
      seen.add(o.path)
      if (o.file !== undefined) unpacking.push([o.path, settle(unpackBlob(o.file, o.path))])
      else if (!asked.optional && r.exitCode === 0)
        throw fail('protocol', `compiled without ${o.path}`)
    }
    for (const [path, data] of unpacking) outputs.set(path, await data)
    if (r.exitCode === 0 && r.signal === null)
      for (const o of job.outputs)
        if (!o.optional && !outputs.has(o.path)) throw fail('protocol', `did not send ${o.path}`)
    const stdout = await stdoutP
    const stderr = await stderrP
    let suspect: RemoteOutcome['suspect']
    let missingSources: string[] | undefined
    if (r.signal !== null) suspect = 'signal'
    else if (job.family === 'gcc' && (stderr.length > 0 || stdout.length > 0)) {
      // The builder must also have printed in the client's locale (quotes, language).
      const localeOk =
        job.diagStyle === 'ascii' ||
        (job.diagStyle === 'utf8' && r.features.includes(UTF8_LOCALE_FEATURE))
      // A job sent for `-fpreprocessed` mode must have been compiled that way.
      const pp = job.fields?.preprocessed !== undefined
      const modeOk = !pp || r.features.includes(PREPROCESSED_FEATURE)
      const verdict =
        localeOk && modeOk && stdout.length === 0 && diagnosticsCheckable(job.args ?? [], pp)
          ? judgeDiagnostics(stderr, job.cwd, r.placed)
          : { exact: false, missing: [] }
      if (!verdict.exact) {
        suspect = 'gcc-diagnostics'
        missingSources = verdict.missing
      }
    }
    return {
      ...(missingSources === undefined ? {} : { missingSources }),
      peer,
      exitCode: r.exitCode,
      signal: r.signal,
      stdout,
      stderr,
      outputs,
      suspect,
      builderCpuMs: r.cpuMs,
      builderWallMs: r.wallMs,
      wallMs,
    }
  } catch (err) {
    if (err instanceof BuilderFailedError) throw err
    throw new BuilderFailedError('protocol', `${peer}: ${text(err)}`, { cause: err })
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
