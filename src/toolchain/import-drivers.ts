/**
 * Guesses the drivers and target of an imported toolchain from its file names, icecream-style:
 * `bin/x86_64-w64-mingw32-gcc` is the C driver for `x86_64-w64-mingw32`. Explicit `--driver` and
 * `--target` win; a toolchain whose drivers cannot be found must name them.
 */
import { ToolchainPackagingError } from '../errors.ts'
import type { ToolchainLanguage } from './manifest.ts'

const C = /^(?:(.+)-)?(gcc|clang|cc)(-\d+(?:\.\d+)*)?$/
const CXX = /^(?:(.+)-)?(g\+\+|clang\+\+|c\+\+)(-\d+(?:\.\d+)*)?$/

interface Candidate {
  path: string
  prefix: string | undefined
  /** `cc`/`c++` are usually aliases; the named driver is preferred. */
  generic: boolean
}

function pick(paths: string[], re: RegExp, target: string | undefined): Candidate | undefined {
  const found: Candidate[] = []
  for (const path of paths) {
    const parts = path.split('/')
    if (parts.at(-2) !== 'bin') continue
    const m = re.exec(parts.at(-1)!)
    if (m) found.push({ path, prefix: m[1], generic: m[2] === 'cc' || m[2] === 'c++' })
  }
  // Prefer the target's own prefix, then prefixed names (cross drivers), then the shortest path.
  const rank = (c: Candidate) =>
    (target !== undefined && c.prefix === target ? 0 : 4) +
    (c.prefix !== undefined ? 0 : 2) +
    (c.generic ? 1 : 0)
  found.sort(
    (a, b) => rank(a) - rank(b) || a.path.length - b.path.length || (a.path < b.path ? -1 : 1),
  )
  return found[0]
}

export function detectDrivers(
  paths: string[],
  target: string | undefined,
): { drivers: Partial<Record<ToolchainLanguage, string>>; target: string } {
  const c = pick(paths, C, target)
  const cxx = pick(paths, CXX, target)
  const drivers: Partial<Record<ToolchainLanguage, string>> = {}
  if (c) drivers.c = drivers['objective-c'] = c.path
  if (cxx) drivers['c++'] = drivers['objective-c++'] = cxx.path
  const t = target ?? c?.prefix ?? cxx?.prefix
  if (!c && !cxx)
    throw new ToolchainPackagingError('found no compiler driver (bin/*gcc, bin/*clang)', {
      hint: 'name it with --driver c=PATH',
    })
  if (t === undefined)
    throw new ToolchainPackagingError('cannot tell the target from the driver names', {
      hint: 'name it with --target TRIPLE',
    })
  return { drivers, target: t }
}
