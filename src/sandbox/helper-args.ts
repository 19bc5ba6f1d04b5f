/**
 * Turns a `SandboxSpec` into the helper's command line. Paths travel as separate arguments, so
 * any path (a client's directory may contain ':' or spaces) passes unchanged; what the helper
 * would refuse anyway is refused here first, with a typed error.
 */
import { SandboxSpecError } from '../errors.ts'
import { DEFAULT_LIMITS, type SandboxLimits, type SandboxSpec } from './types.ts'

function checkPath(what: string, p: string, { inside }: { inside: boolean }): string {
  if (!p.startsWith('/') || p.includes('\0'))
    throw new SandboxSpecError(`${what} must be an absolute path: ${JSON.stringify(p)}`)
  if (inside) {
    const parts = p.split('/').filter(Boolean)
    if (parts.length === 0 || parts.some((c) => c === '.' || c === '..'))
      throw new SandboxSpecError(`${what} must not be '/' or contain '.' or '..': ${p}`)
    if (parts[0] === 'proc' || parts[0] === 'dev')
      throw new SandboxSpecError(`${what}: /${parts[0]} is provided by the sandbox: ${p}`)
  }
  return p
}

function count(what: string, n: number): string {
  if (!Number.isSafeInteger(n) || n <= 0) throw new SandboxSpecError(`${what} must be > 0: ${n}`)
  return String(n)
}

export function resolveLimits(spec: SandboxSpec): SandboxLimits {
  const l = { ...DEFAULT_LIMITS, ...spec.limits }
  // Without an explicit CPU limit, CPU time may use the whole wall-clock budget.
  if (spec.limits?.cpuMs === undefined) l.cpuMs = l.timeoutMs
  return l
}

/** The helper's arguments (without the helper itself), status on descriptor `statusFd`. */
export function helperArgs(spec: SandboxSpec, statusFd = 3): string[] {
  const a: string[] = []
  for (const m of spec.mounts) {
    switch (m.kind) {
      case 'ro':
      case 'rw':
        a.push(
          `--${m.kind}`,
          checkPath('mount source', m.source, { inside: false }),
          checkPath('mount path', m.path, { inside: true }),
        )
        break
      case 'tmpfs':
        a.push(
          '--tmpfs',
          checkPath('tmpfs path', m.path, { inside: true }),
          count('tmpfs size', m.sizeBytes),
        )
        break
      case 'symlink':
        if (m.to === '' || m.to.includes('\0'))
          throw new SandboxSpecError(`bad symlink target for ${m.path}`)
        a.push('--symlink', m.to, checkPath('symlink path', m.path, { inside: true }))
        break
      case 'dir':
        a.push('--dir', checkPath('dir path', m.path, { inside: true }))
        break
    }
  }
  const l = resolveLimits(spec)
  a.push('--cwd', checkPath('cwd', spec.cwd, { inside: false }))
  a.push('--timeout-ms', count('timeoutMs', l.timeoutMs), '--cpu-ms', count('cpuMs', l.cpuMs))
  a.push('--mem-bytes', count('memBytes', l.memBytes), '--nproc', count('nproc', l.nproc))
  a.push('--fsize', count('fsizeBytes', l.fsizeBytes), '--nofile', count('nofile', l.nofile))
  for (const [k, v] of Object.entries(spec.env)) {
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0'))
      throw new SandboxSpecError(`bad environment entry: ${JSON.stringify(k)}`)
    a.push('--env', `${k}=${v}`)
  }
  if (spec.uid !== undefined) a.push('--uid', count('uid', spec.uid))
  if (spec.gid !== undefined) a.push('--gid', count('gid', spec.gid))
  a.push('--status-fd', String(statusFd), '--', spec.program, ...spec.args)
  return a
}
