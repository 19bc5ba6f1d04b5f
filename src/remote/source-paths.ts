/**
 * Which shipped source files (`JobRequest.sources`, read by gcc only to print diagnostics) a
 * builder may place in a job's sandbox, and where. A source is placed only *inside* the sandbox,
 * read-only, at the client's absolute path; on the builder's disk it lives under the job
 * directory under a name the builder chooses (`f0`, `f1`…), never under a name the client sent,
 * so a hostile path can at worst be refused, never reach the builder's own files.
 *
 * Refused: anything `absPath` refuses (relative, not normalised, `..`, NUL, `/`), paths on the
 * sandbox's or the toolchain's top-level entries (`/usr`, `/proc`, `/dev`…, see `job-paths.ts`),
 * a path that is (or is inside) an output, and a path that is a directory the job needs (the
 * working directory, an ancestor of an output or of another source): a file cannot stand there.
 */
import { JobCodecError } from '../errors.ts'
import { absPath } from './job-fields.ts'
import { RESERVED_TOP, reservedPath } from './job-paths.ts'

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`)

/** Why `path` cannot be placed in this job's sandbox, or undefined when it can. */
export function sourcePathProblem(
  path: string,
  job: { cwd: string; inputPath: string; outputs: readonly { path: string }[] },
  others: readonly string[] = [],
  reservedTop: ReadonlySet<string> = RESERVED_TOP,
): string | undefined {
  try {
    absPath('source', path)
  } catch (err) {
    return (err as JobCodecError).message
  }
  if (reservedPath(path, reservedTop)) return `${path} lies on the sandbox's own directories`
  if (path === job.inputPath) return undefined
  for (const o of job.outputs)
    if (under(path, o.path) || under(o.path, path)) return `${path} collides with an output`
  for (const d of [job.cwd, job.inputPath, ...others])
    if (d !== path && under(d, path)) return `${path} is a directory of the job`
  return undefined
}

/** Throws JobCodecError unless `path` can be placed (the codec's structural check). */
export function checkSourcePath(
  field: string,
  path: unknown,
  job: { cwd: string; inputPath: string; outputs: readonly { path: string }[] },
): string {
  const p = absPath(field, path)
  const problem = sourcePathProblem(p, job)
  if (problem !== undefined) throw new JobCodecError(`${field}: ${problem}`)
  return p
}
