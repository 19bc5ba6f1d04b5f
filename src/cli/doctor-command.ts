/**
 * `meshcc doctor [--json]`: real checks of the installation and the environment, each ok, warn
 * or fail with a hint: Node ≥ 24, the native client and the built JS, `MESHCC_HOME` writable, the
 * daemon (see doctor-daemon.ts), the mesh (joined, certificate and its renewal, members connected,
 * listen addresses, mDNS, private-network key: doctor-mesh.ts), the cache directory's size, the
 * compilers on PATH and any masquerade directory.
 */
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodePaths } from '../config/paths.ts'
import { formatBytes } from '../config/units.ts'
import { parseCommand } from './args.ts'
import { checkClientTimeout, checkDaemon, checkFallbacks } from './doctor-daemon.ts'
import { checkMesh } from './doctor-mesh.ts'
import { commandHelp } from './help.ts'
import { type Output, printJson } from './output.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail'
export interface Check {
  name: string
  status: CheckStatus
  detail: string
  hint?: string
}

const COMPILERS = ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++']
/** The package root: two levels above `dist/cli/` (or `src/cli/`). */
const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

export async function doctorCommand(args: string[], o: Output, paths: NodePaths): Promise<number> {
  const { values } = parseCommand('doctor', args, {}, 0)
  if (values.help) {
    o.out(commandHelp['doctor']!)
    return 0
  }
  const checks: Check[] = [
    checkNode(),
    checkNativeClient(),
    checkBuilt(),
    checkHome(paths),
    ...(await checkDaemon(paths)),
    ...(await checkMesh(paths)),
    checkClientTimeout(),
    await checkFallbacks(paths),
    checkCache(paths),
    ...checkCompilers(),
    // Whether this node may take remote jobs: a builder without a working sandbox refuses them.
    await (await import('../sandbox/doctor-check.ts')).sandboxCheck(),
  ]
  const failed = checks.some((c) => c.status === 'fail')
  if (o.json) printJson(o, { ok: !failed, checks })
  else {
    for (const c of checks) {
      o.out(`${c.status.padEnd(4)}  ${c.name}: ${c.detail}`)
      if (c.hint && c.status !== 'ok') o.out(`      hint: ${c.hint}`)
    }
  }
  return failed ? 1 : 0
}

function checkNode(): Check {
  const major = Number.parseInt(process.versions.node.split('.')[0] ?? '0', 10)
  const detail = `${process.version} (${process.execPath})`
  return major >= 24
    ? { name: 'node', status: 'ok', detail }
    : { name: 'node', status: 'fail', detail, hint: `run 'npm ci' in ${root} to get Node 24` }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function checkNativeClient(): Check {
  const bin = join(root, 'bin', 'meshcc')
  return isExecutable(bin)
    ? { name: 'native client', status: 'ok', detail: bin }
    : {
        name: 'native client',
        status: 'fail',
        detail: `${bin} missing`,
        hint: `run 'npm run build' in ${root}`,
      }
}

function checkBuilt(): Check {
  const entry = join(root, 'dist', 'daemon', 'main.js')
  return existsSync(entry)
    ? { name: 'daemon code', status: 'ok', detail: entry }
    : {
        name: 'daemon code',
        status: 'fail',
        detail: `${entry} missing`,
        hint: `run 'npm run build' in ${root}`,
      }
}

function checkHome(paths: NodePaths): Check {
  try {
    // Non-recursive when the parent exists: Node's recursive mkdir spins forever on ENOENT from
    // a parent that exists but refuses children (/proc).
    if (!existsSync(paths.home)) {
      mkdirSync(paths.home, { recursive: !existsSync(dirname(paths.home)), mode: 0o700 })
    }
    const probe = join(paths.home, `.doctor-${process.pid}`)
    writeFileSync(probe, 'ok')
    rmSync(probe)
    const mode = statSync(paths.home).mode & 0o777
    if ((mode & 0o077) !== 0) {
      return {
        name: 'MESHCC_HOME',
        status: 'warn',
        detail: `${paths.home} is writable but mode ${mode.toString(8)}`,
        hint: `chmod 700 ${paths.home}: it holds the daemon socket and the cache`,
      }
    }
    return { name: 'MESHCC_HOME', status: 'ok', detail: `${paths.home} (writable)` }
  } catch (err) {
    return {
      name: 'MESHCC_HOME',
      status: 'fail',
      detail: `${paths.home} not writable (${(err as NodeJS.ErrnoException).code ?? err})`,
      hint: 'set MESHCC_HOME to a writable directory',
    }
  }
}

function dirSize(dir: string): { bytes: number; files: number } {
  let bytes = 0
  let files = 0
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    try {
      bytes += lstatSync(join(entry.parentPath, entry.name)).size
      files++
    } catch {
      // Evicted while we walked: not there any more.
    }
  }
  return { bytes, files }
}

function checkCache(paths: NodePaths): Check {
  if (!existsSync(paths.cacheDir)) {
    return { name: 'cache', status: 'ok', detail: `${paths.cacheDir} (not created yet)` }
  }
  try {
    const { bytes, files } = dirSize(paths.cacheDir)
    return {
      name: 'cache',
      status: 'ok',
      detail: `${paths.cacheDir}: ${formatBytes(bytes)} in ${files} files`,
    }
  } catch (err) {
    return {
      name: 'cache',
      status: 'fail',
      detail: `${paths.cacheDir} unreadable (${(err as NodeJS.ErrnoException).code ?? err})`,
      hint: 'check permissions under MESHCC_HOME',
    }
  }
}

/** Where `name` resolves on PATH: every hit, marking those that are meshcc itself. */
function whichAll(
  name: string,
  selfIno: number | undefined,
): Array<{ path: string; meshcc: boolean }> {
  const hits: Array<{ path: string; meshcc: boolean }> = []
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const candidate = join(dir || '.', name)
    if (!isExecutable(candidate)) continue
    hits.push({
      path: candidate,
      meshcc: selfIno !== undefined && statSync(candidate).ino === selfIno,
    })
  }
  return hits
}

function checkCompilers(): Check[] {
  let selfIno: number | undefined
  try {
    selfIno = statSync(join(root, 'bin', 'meshcc')).ino
  } catch {
    selfIno = undefined
  }
  const checks: Check[] = []
  const masqDirs = new Set<string>()
  let found = 0
  for (const name of COMPILERS) {
    const hits = whichAll(name, selfIno)
    const real = hits.find((h) => !h.meshcc)
    const masq = hits[0]?.meshcc ? hits[0] : undefined
    if (masq) masqDirs.add(dirname(masq.path))
    if (real) found++
    if (!real) {
      if (hits.length > 0) {
        checks.push({
          name,
          status: 'fail',
          detail: `only meshcc (${hits[0]!.path}) on PATH, no real ${name}`,
          hint: `install ${name} or put its directory on PATH after ${dirname(hits[0]!.path)}`,
        })
      }
      continue
    }
    checks.push({
      name,
      status: 'ok',
      detail: masq ? `${masq.path} → meshcc → ${real.path}` : real.path,
    })
  }
  if (found === 0) {
    checks.push({
      name: 'compilers',
      status: 'fail',
      detail: `none of ${COMPILERS.join(', ')} found on PATH`,
      hint: 'install gcc or clang',
    })
  }
  checks.push(
    masqDirs.size > 0
      ? { name: 'masquerade', status: 'ok', detail: `${[...masqDirs].join(', ')} first on PATH` }
      : {
          name: 'masquerade',
          status: 'ok',
          detail: 'no masquerade directory first on PATH (prefix form: meshcc gcc …)',
        },
  )
  return checks
}
