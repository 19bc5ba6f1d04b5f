/**
 * Wall and CPU cost of running a program in the builder's sandbox, against spawning it directly
 * from Node: `/bin/true` and `gcc -O2 -c tiny.c`, N runs each way. The difference is what the
 * sandbox (user/mount/pid/net/ipc/uts namespaces, the mount tree, pivot_root, seccomp,
 * Landlock, rlimits) adds to every remote job on a builder.
 *
 * The helper runs two ways: spawned from Node (`MESHCC_SANDBOX_LAUNCHER=0`), and through the
 * long-lived launcher the builder uses (`src/sandbox/launcher.ts`). CPU is the reaped children's
 * user + sys (`/proc/<pid>/stat` cutime + cstime, 10 ms ticks, of this process and of the
 * launcher) per run, so the helper's own set-up is included; wall is the median per run.
 *
 * Run (after `node scripts/build.mjs`): node bench/micro/sandbox-start.ts [N=30]
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCompiler } from '../../src/compile/run-compiler.ts'
import { sandboxHelperPath } from '../../src/sandbox/helper-path.ts'
import { sandboxLauncher } from '../../src/sandbox/launcher.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemToolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'

const arg = process.argv[2] ?? '30'
if (!/^\d+$/.test(arg) || process.argv.length > 3) {
  const help = arg === '--help' || arg === '-h'
  const usage = 'usage: node bench/micro/sandbox-start.ts [N=30]\n'
  process[help ? 'stdout' : 'stderr'].write(help ? usage : `sandbox-start: bad arguments\n${usage}`)
  process.exit(help ? 0 : 2)
}
const N = Number(arg)
const dir = await mkdtemp(join(tmpdir(), 'meshcc-sbx-bench-'))
await writeFile(join(dir, 'tiny.c'), 'int tiny(int x) { return x + 1; }\n')
const toolchain = await systemToolchainMounts()
const env = { PATH: '/usr/bin:/bin' }
const cases: Record<string, string[]> = {
  true: ['/bin/true'],
  gcc: ['/usr/bin/gcc', '-O2', '-c', 'tiny.c', '-o', 'tiny.o'],
}

const launcherPid = (await sandboxLauncher(sandboxHelperPath()))?.pid

/** Reaped children's CPU so far, in ms (this process's and the launcher's). */
function childrenCpuMs(): number {
  let ms = 0
  for (const pid of ['self', ...(launcherPid === undefined ? [] : [String(launcherPid)])]) {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    ms += (Number(f[16 - 3]) + Number(f[17 - 3])) * 10
  }
  return ms
}

async function batch(run: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = []
  const c0 = childrenCpuMs()
  for (let i = 0; i < N; i++) {
    const t = performance.now()
    if ((await run()) !== 0) throw new Error('non-zero exit')
    walls.push(performance.now() - t)
  }
  walls.sort((a, b) => a - b)
  return { wall: walls[walls.length >> 1] as number, cpu: (childrenCpuMs() - c0) / N }
}

try {
  for (const [name, [program, ...args]] of Object.entries(cases)) {
    const direct = await batch(
      async () =>
        (await runCompiler({ compiler: program as string, args, cwd: dir, env })).exitCode,
    )
    const sandboxed = async () =>
      (
        await runSandboxed({
          program: program as string,
          args,
          cwd: '/job',
          mounts: [...toolchain, { kind: 'rw', source: dir, path: '/job' }],
          env,
          limits: { timeoutMs: 60_000, nproc: 64 },
        })
      ).exitCode
    process.env['MESHCC_SANDBOX_LAUNCHER'] = '0'
    const spawned = await batch(sandboxed)
    delete process.env['MESHCC_SANDBOX_LAUNCHER']
    const launched = await batch(sandboxed)
    const row = (what: string, r: { wall: number; cpu: number }) =>
      `${what} ${r.wall.toFixed(1)} ms wall, ${r.cpu.toFixed(1)} ms CPU (+${(r.wall - direct.wall).toFixed(1)} wall, +${(r.cpu - direct.cpu).toFixed(1)} CPU)`
    console.log(
      `${name}: direct ${direct.wall.toFixed(1)} ms wall, ${direct.cpu.toFixed(1)} ms CPU | ${row('spawned helper', spawned)} | ${row('launcher', launched)}`,
    )
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
