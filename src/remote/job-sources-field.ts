/**
 * The `sources` field of a job request (`job-codec.ts`): the files gcc's diagnostics may read,
 * listed with their sizes, their bytes in one blob. Every path must be one a builder could place
 * (`source-paths.ts`), no path twice or inside another, sizes adding up to the blob's, counts and
 * sizes within `job-limits.ts`.
 */
import { JobCodecError } from '../errors.ts'
import type { Blob, JobRequest, JobSources } from './job-codec.ts'
import { arr, int, obj } from './job-fields.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { checkSourcePath } from './source-paths.ts'

export function sourcesField(
  x: unknown,
  job: Pick<JobRequest, 'cwd' | 'inputPath' | 'outputs'>,
  take: (spec: Record<string, unknown>) => Blob,
): JobSources {
  const o = obj('sources', x)
  const files = arr('sources.files', o['files'], JOB_LIMITS.maxSourceFiles).map((f, i) => {
    const e = obj(`sources.files[${i}]`, f)
    return {
      path: checkSourcePath(`sources.files[${i}].path`, e['path'], job),
      size: int(`sources.files[${i}].size`, e['size'], 0, JOB_LIMITS.maxSourcesBytes),
    }
  })
  const data = take(o)
  return { files, data }
}

export function checkSources(
  s: JobSources,
  r: Pick<JobRequest, 'cwd' | 'inputPath' | 'outputs'>,
): void {
  if (s.files.length === 0 || s.files.length > JOB_LIMITS.maxSourceFiles)
    throw new JobCodecError(`sources: between 1 and ${JOB_LIMITS.maxSourceFiles} files`)
  const seen = new Set<string>()
  let total = 0
  for (const f of s.files) {
    checkSourcePath('sources', f.path, r)
    if (seen.has(f.path)) throw new JobCodecError(`sources: ${f.path} twice`)
    seen.add(f.path)
    total += f.size
  }
  for (const f of s.files)
    for (const other of seen)
      if (other !== f.path && other.startsWith(`${f.path}/`))
        throw new JobCodecError(`sources: ${f.path} is a directory of ${other}`)
  if (
    total !== s.data.size ||
    s.data.size > JOB_LIMITS.maxSourcesBytes ||
    s.data.data.byteLength > JOB_LIMITS.maxSourcesWireBytes
  )
    throw new JobCodecError('sources: sizes do not add up or are over the limit')
}
