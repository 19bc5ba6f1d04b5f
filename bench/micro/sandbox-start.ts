/**
 * Wall and CPU cost of running a program in the builder's sandbox, against spawning it directly
 * from Node: `/bin/true` and `gcc -O2 -c tiny.c`, N runs each way. The difference is what the
 * sandbox (user/mount/pid/net/ipc/uts namespaces, the mount tree, pivot_root, seccomp,
 * Landlock, rlimits) adds to every remote job on a builder.
 *
 * CPU is the reaped children's user + sys (`/proc/self/stat` cutime + cstime, 10 ms ticks) per
 * run, so the helper's own set-up is included; wall is the median per run.
 *
 * Run (after `node scripts/build.mjs`): node bench/micro/sandbox-start.ts [N=30]
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCompiler } from '../../src/compile/run-compiler.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemToolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'

const N = Number(process.argv[2] ?? 30)
const dir = await mkdtemp(join(tmpdir(), 'meshcc-sbx-bench-'))
await writeFile(join(dir, 'tiny.c'), 'int tiny(int x) { return x + 1; }\n')
const toolchain = await systemToolchainMounts()
const env = { PATH: '/usr/bin:/bin' }
const cases: Record<string, string[]> = {
  true: ['/bin/true'],
  gcc: ['/usr/bin/gcc', '-O2', '-c', 'tiny.c', '-o', 'tiny.o'],
}

/** Reaped children's CPU so far, in ms. */
function childrenCpuMs(): number {
  const s = readFileSync('/proc/self/stat', 'latin1')
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return (Number(f[16 - 3]) + Number(f[17 - 3])) * 10
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
    const sandboxed = await batch(
      async () =>
        (
          await runSandboxed({
            program: program as string,
            args,
            cwd: '/job',
            mounts: [...toolchain, { kind: 'rw', source: dir, path: '/job' }],
            env,
            limits: { timeoutMs: 60_000, nproc: 64 },
          })
        ).exitCode,
    )
    console.log(
      `${name}: direct ${direct.wall.toFixed(1)} ms wall, ${direct.cpu.toFixed(1)} ms CPU | sandboxed ${sandboxed.wall.toFixed(1)} ms wall, ${sandboxed.cpu.toFixed(1)} ms CPU | sandbox adds ${(sandboxed.wall - direct.wall).toFixed(1)} ms wall, ${(sandboxed.cpu - direct.cpu).toFixed(1)} ms CPU`,
    )
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
