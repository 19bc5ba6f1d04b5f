/**
 * Shared set-up of the sandbox tests: builds the helper (make, a no-op when up to date) and the
 * hostile probe program (`test/fixtures/sandbox/probe.c`), and runs the probe inside the
 * sandbox with the host's compiler directories as the read-only "toolchain".
 */
import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemToolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'
import type {
  SandboxLimits,
  SandboxMount,
  SandboxResult,
  SandboxSpec,
} from '../../src/sandbox/types.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
export const helper = join(root, 'native-sandbox', 'meshcc-sandbox')
export const isLinux = process.platform === 'linux'
export const isRoot = process.getuid?.() === 0

export interface ProbeFixture {
  /** A 0755 temp directory holding the probe binary; remove with `cleanup`. */
  dir: string
  probe: string
  toolchain: SandboxMount[]
  cleanup: () => Promise<void>
}

export async function probeFixture(): Promise<ProbeFixture> {
  execFileSync('make', ['-s', '-C', join(root, 'native-sandbox')], { stdio: 'inherit' })
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-sbx-'))
  await chmod(dir, 0o755) // readable by the unprivileged test's uid
  const probe = join(dir, 'probe')
  execFileSync('gcc', ['-O2', '-o', probe, join(root, 'test', 'fixtures', 'sandbox', 'probe.c')])
  return {
    dir,
    probe,
    toolchain: await systemToolchainMounts(),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

export interface ProbeRun extends SandboxResult {
  lines: string[]
}

/** Runs `/probe/probe ARGS…` with the toolchain and the probe directory mounted read-only. */
export async function runProbe(
  f: ProbeFixture,
  args: string[],
  opts: {
    mounts?: SandboxMount[]
    limits?: Partial<SandboxLimits>
    env?: Record<string, string>
    signal?: AbortSignal
  } = {},
): Promise<ProbeRun> {
  const spec: SandboxSpec = {
    program: '/probe/probe',
    args,
    mounts: [...f.toolchain, { kind: 'ro', source: f.dir, path: '/probe' }, ...(opts.mounts ?? [])],
    cwd: '/',
    env: opts.env ?? { PATH: '/usr/bin:/bin' },
    limits: { timeoutMs: 20_000, ...opts.limits },
  }
  const r = await runSandboxed(spec, opts.signal === undefined ? {} : { signal: opts.signal })
  return { ...r, lines: r.stdout.toString('utf8').split('\n').filter(Boolean) }
}

/** Host processes (other than this one) whose arguments include all of `words`. */
export async function hostProcessesWith(...words: string[]): Promise<number[]> {
  const found: number[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')
    const argv = cmd.split('\0')
    if (words.every((w) => argv.includes(w))) found.push(Number(name))
  }
  return found
}

export const uniqueToken = (tag: string) =>
  `meshcc-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
