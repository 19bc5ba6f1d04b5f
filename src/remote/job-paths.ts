/**
 * Where a job's files live on the builder. Inside the sandbox every path is the client's own
 * (its working directory, the source's absolute path, each output's), so that debug info,
 * `__FILE__` and diagnostics match a local compile. On the builder's disk they live under a fresh
 * job directory: each *root* (a needed directory with no needed ancestor: usually just the
 * working directory; also the source's directory in an out-of-tree CMake build) gets its own
 * scratch directory, mounted read-write at the root's path.
 *
 * Paths that would land on the sandbox's own file systems or on the toolchain's top-level
 * entries (`/usr`, `/lib`…) cannot be mapped: the client does not send such jobs
 * (`remote-eligibility.ts`), and a builder whose toolchain holds more refuses them.
 */
import { posix } from 'node:path'

/** Top-level names the sandbox or a typical toolchain tree occupies. */
export const RESERVED_TOP = new Set([
  'usr',
  'bin',
  'sbin',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'etc',
  'proc',
  'dev',
  'sys',
  // Where a builder lends its own files to a job (`builder-locale.ts`).
  '.meshcc',
])

/** Whether an absolute path falls on a reserved top-level entry (or is `/`). */
export function reservedPath(abs: string, extra: ReadonlySet<string> = RESERVED_TOP): boolean {
  const top = abs.split('/')[1] ?? ''
  return top === '' || RESERVED_TOP.has(top) || extra.has(top)
}

export interface JobRoot {
  /** Path inside the sandbox. */
  path: string
  /** Scratch directory on the builder's disk. */
  host: string
}

export interface JobMountPlan {
  roots: JobRoot[]
  /** The builder-disk location of a sandbox path under one of the roots. */
  hostPath(abs: string): string
  /** The root holding `abs` and the path relative to it. */
  locate(abs: string): { root: JobRoot; rel: string }
}

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`)

export function planJobMounts(
  jobDir: string,
  job: { cwd: string; inputPath: string; outputs: readonly { path: string }[] },
  reservedTop: ReadonlySet<string> = RESERVED_TOP,
): JobMountPlan | { refused: string } {
  const files = [job.inputPath, ...job.outputs.map((o) => o.path)]
  for (const p of [job.cwd, ...files])
    if (reservedPath(p, reservedTop))
      return { refused: `path ${p} cannot be mapped on this builder` }
  const dirs = [...new Set([job.cwd, ...files.map((f) => posix.dirname(f))])]
  for (const d of dirs)
    if (reservedPath(d, reservedTop))
      return { refused: `directory ${d} cannot be mapped on this builder` }
  const rootPaths = dirs
    .filter((d) => !dirs.some((o) => o !== d && under(d, o)))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1))
  const roots = rootPaths.map((path, i) => ({ path, host: posix.join(jobDir, `m${i}`) }))
  const locate = (abs: string) => {
    const root = roots.find((r) => under(abs, r.path))
    if (root === undefined) throw new Error(`${abs} is not under a job root`)
    return { root, rel: abs === root.path ? '' : abs.slice(root.path.length + 1) }
  }
  return {
    roots,
    locate,
    hostPath: (abs) => {
      const { root, rel } = locate(abs)
      return rel === '' ? root.host : posix.join(root.host, rel)
    },
  }
}
