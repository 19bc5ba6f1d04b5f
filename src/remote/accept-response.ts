/**
 * Accepting a builder's response on the client: it must answer *this* job (its id; only BUSY and
 * refusals may come before the builder read the request, as `-`), its status maps to a typed
 * error the scheduler acts on, and a compiled result must carry exactly the outputs asked for,
 * each decompressed within its declared size. A gcc result that printed anything is `suspect`:
 * its diagnostics lack the source excerpts a local compile prints, so the caller compiles locally.
 */
import { BuilderBusyError, BuilderFailedError } from '../errors.ts'
import type { InfraFailure } from '../scheduler/types.ts'
import type { JobResponse } from './job-codec.ts'
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
  try {
    for (const o of r.outputs) {
      const asked = job.outputs.find((x) => x.path === o.path)
      if (asked === undefined || outputs.has(o.path))
        throw fail('protocol', `sent unrequested output ${o.path}`)
      if (o.file !== undefined) outputs.set(o.path, await unpackBlob(o.file, o.path))
      else if (!asked.optional && r.exitCode === 0)
        throw fail('protocol', `compiled without ${o.path}`)
    }
    if (r.exitCode === 0 && r.signal === null)
      for (const o of job.outputs)
        if (!o.optional && !outputs.has(o.path)) throw fail('protocol', `did not send ${o.path}`)
    const stdout = await unpackBlob(r.stdout, 'stdout')
    const stderr = await unpackBlob(r.stderr, 'stderr')
    const suspect =
      r.signal !== null
        ? 'signal'
        : job.family === 'gcc' && (stderr.length > 0 || stdout.length > 0)
          ? 'gcc-diagnostics'
          : undefined
    return {
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
