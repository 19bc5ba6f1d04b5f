/**
 * Validators for the fields of job messages (`job-codec.ts`): each checks type and bounds
 * (`job-limits.ts`) and throws JobCodecError naming the field, so a malformed message is refused
 * with a reason a log can show.
 */
import { JobCodecError } from '../errors.ts'
import { JOB_LIMITS } from './job-limits.ts'

export function obj(field: string, x: unknown): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw new JobCodecError(`${field}: expected an object`)
  return x as Record<string, unknown>
}

export function arr(field: string, x: unknown, max: number): unknown[] {
  if (!Array.isArray(x)) throw new JobCodecError(`${field}: expected an array`)
  if (x.length > max) throw new JobCodecError(`${field}: more than ${max} entries`)
  return x
}

export function int(field: string, x: unknown, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max)
    throw new JobCodecError(`${field}: expected an integer in [${min}, ${max}]`)
  return x
}

export function bool(field: string, x: unknown): boolean {
  if (typeof x !== 'boolean') throw new JobCodecError(`${field}: expected a boolean`)
  return x
}

export function str(field: string, x: unknown, maxBytes: number): string {
  if (typeof x !== 'string') throw new JobCodecError(`${field}: expected a string`)
  if (Buffer.byteLength(x, 'utf8') > maxBytes)
    throw new JobCodecError(`${field}: longer than ${maxBytes} bytes`)
  if (x.includes('\0')) throw new JobCodecError(`${field}: contains a NUL byte`)
  return x
}

export function oneOf(field: string, x: unknown, allowed: readonly string[]): string {
  if (typeof x !== 'string' || !allowed.includes(x))
    throw new JobCodecError(`${field}: expected one of ${allowed.join(', ')}`)
  return x
}

export function hex64(field: string, x: unknown): string {
  if (typeof x !== 'string' || !/^[0-9a-f]{64}$/.test(x))
    throw new JobCodecError(`${field}: expected 64 lowercase hex digits`)
  return x
}

export function jobId(x: unknown): string {
  const s = str('jobId', x, JOB_LIMITS.maxJobIdBytes)
  if (!/^[A-Za-z0-9._-]+$/.test(s)) throw new JobCodecError('jobId: unexpected characters')
  return s
}

/** Absolute, normalised POSIX path: no empty, `.` or `..` component, not `/` itself. */
export function absPath(field: string, x: unknown): string {
  const s = str(field, x, JOB_LIMITS.maxPathBytes)
  const parts = s.split('/')
  if (
    !s.startsWith('/') ||
    s === '/' ||
    parts.slice(1).some((p) => p === '' || p === '.' || p === '..')
  )
    throw new JobCodecError(`${field}: not an absolute normalised path: ${JSON.stringify(s)}`)
  return s
}

export function args(x: unknown): string[] {
  const list = arr('args', x, JOB_LIMITS.maxArgs)
  let total = 0
  return list.map((a, i) => {
    const s = str(`args[${i}]`, a, JOB_LIMITS.maxArgBytes)
    total += Buffer.byteLength(s, 'utf8')
    if (total > JOB_LIMITS.maxArgsTotalBytes)
      throw new JobCodecError('args: over the total size limit')
    return s
  })
}

export function env(x: unknown): Record<string, string> {
  const o = obj('env', x)
  const keys = Object.keys(o)
  if (keys.length > JOB_LIMITS.maxEnv) throw new JobCodecError('env: too many entries')
  const out: Record<string, string> = {}
  for (const k of keys) {
    if (!/^[A-Z_][A-Z0-9_]{0,63}$/.test(k))
      throw new JobCodecError(`env: bad name ${JSON.stringify(k)}`)
    out[k] = str(`env.${k}`, o[k], JOB_LIMITS.maxEnvValueBytes)
  }
  return out
}
