/**
 * The calibration that seeds a fresh node's speed figure (`speed-estimator.ts`): one compile of
 * a small fixed C translation unit (generated here, no includes, so the same work on every
 * machine) with the system C compiler at -O2, output discarded. It runs once, in the
 * background after start, so a node that has compiled nothing yet still advertises a measured
 * figure rather than a constant.
 *
 * The unit is dense code (loops, branches) that takes far more CPU per byte than ordinary
 * preprocessed sources; `CALIBRATION_BYTES` is what it is worth in ordinary preprocessed bytes
 * (measured: gcc 12 -O2 compiles it in about the time it takes on 460 KB of preprocessed C++),
 * so the seed and later samples are in the same unit.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SpeedSample } from './speed-estimator.ts'

/** The calibration unit's worth in ordinary preprocessed bytes. */
export const CALIBRATION_BYTES = 460_000

/** The fixed translation unit: 60 small functions with loops and a switch, about 20 KB. */
export function calibrationSource(): string {
  const fns: string[] = []
  const calls: string[] = []
  for (let i = 0; i < 60; i++) {
    fns.push(
      `static unsigned f${i}(unsigned x, const unsigned *a, int n) {
  unsigned s = x * ${i + 3}u;
  for (int k = 0; k < n; k++) { s ^= a[k] + (s << ${(i % 7) + 1}) + (s >> ${(i % 5) + 2}); if (s & 1u) s += ${i}u; else s -= a[(k + ${i}) % n]; }
  switch (s % 4u) { case 0: return s + ${i}u; case 1: return s * 3u; case 2: return s ^ 0x5au; default: return s - 7u; }
}`,
    )
    calls.push(`f${i}(x, a, n)`)
  }
  return `${fns.join('\n')}\nunsigned calibrate(unsigned x, const unsigned *a, int n) { return ${calls.join(' + ')}; }\n`
}

/**
 * Compiles the unit once with `compiler` (default `cc`) and returns the sample: its
 * equivalent bytes and the compile's CPU time (user + system, from the child's resource use
 * as the kernel reports it when it exits, so other work on the machine does not count).
 */
export async function calibrate({
  compiler = 'cc',
  signal,
}: {
  compiler?: string
  signal?: AbortSignal
} = {}): Promise<SpeedSample> {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-calibrate-'))
  try {
    const src = join(dir, 'calibrate.c')
    await writeFile(src, calibrationSource())
    const cpuMs = await timedRun(compiler, ['-O2', '-c', src, '-o', join(dir, 'calibrate.o')], {
      signal,
    })
    return { bytes: CALIBRATION_BYTES, cpuMs }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Runs the compiler and returns its CPU milliseconds. Node gives no child resource usage, so
 * the compile runs under `sh -c 'cmd; times'`, whose `times` builtin prints the children's user
 * and system CPU time (POSIX, no `/usr/bin/time` needed).
 */
function timedRun(
  compiler: string,
  args: string[],
  { signal }: { signal?: AbortSignal | undefined },
): Promise<number> {
  const quoted = [compiler, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `${quoted} >/dev/null 2>&1 || exit 3; times`], {
      stdio: ['ignore', 'pipe', 'ignore'],
      ...(signal === undefined ? {} : { signal }),
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`calibration compile failed (exit ${code})`))
      // `times` prints the shell's own times, then its children's: "0m0.210s 0m0.020s".
      const lines = out.trim().split('\n')
      const ms = [...(lines.at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000,
        0,
      )
      if (!(ms > 0)) return reject(new Error(`cannot read the calibration time from ${out}`))
      resolve(ms)
    })
  })
}
