/**
 * The first job on a builder that lacks the toolchain.
 *
 * icecream: the client's toolchain tarball is made once with `icecc-create-env` (timed on its
 * own: it is a one-off on the client) and named with `ICECC_VERSION`; then, for each sample, the
 * builders' iceccd are restarted with empty toolchain caches and the client compiles `tiny.c`
 * until every builder has received the toolchain. A job whose client log (`ICECC_DEBUG=info`)
 * shows "Transfer Environment" is a first job on its builder: it waits for the upload and for
 * the builder to unpack and check the toolchain; the others found it installed.
 * Toolchain cost = median(first jobs) − median(the others).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { median } from '../lib/numbers.ts'
import { run } from '../lib/proc.ts'
import type { IceccTool } from './icecc.ts'
import type { MeshccFarm } from './meshcc-farm.ts'
import type { Farm } from './netns.ts'

export interface FirstJobResult {
  tool: string
  samples: number
  /** Median wall seconds of the first job on a fresh builder. */
  first: number
  /** Median wall seconds of the next job (toolchain present). */
  warm: number
  /** median(first) − median(warm). */
  toolchainCost: number
  /** Toolchain size in bytes as sent. */
  bytes: number
  notes: string[]
}

async function wallInNs(
  farm: Farm,
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
) {
  const ns = farm.client.exec
  const t0 = process.hrtime.bigint()
  const r = await run(ns[0]!, [...ns.slice(1), ...argv], {
    cwd,
    env,
    ...(signal ? { signal } : {}),
  })
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, stderr: r.stderr }
}

export async function iceccFirstJob(
  farm: Farm,
  icecc: IceccTool,
  {
    scratch,
    samples,
    signal,
    log,
  }: { scratch: string; samples: number; signal?: AbortSignal; log(s: string): void },
): Promise<FirstJobResult> {
  const sig = signal ? { signal } : {}
  const envDir = join(scratch, 'icecc-env')
  await run('mkdir', ['-p', envDir])
  const t0 = process.hrtime.bigint()
  await run('icecc-create-env', ['--gcc', '/usr/bin/gcc', '/usr/bin/g++'], { cwd: envDir, ...sig })
  const createS = Number(process.hrtime.bigint() - t0) / 1e9
  const tarball = (await readdir(envDir)).find((f) => f.endsWith('.tar.gz'))
  if (!tarball) throw new Error('icecc-create-env made no tarball')
  const bytes = (await stat(join(envDir, tarball))).size
  const env = { ...icecc.env, ICECC_VERSION: join(envDir, tarball), ICECC_DEBUG: 'info' }
  const argv = ['icecc', 'gcc', '-O2', '-c', 'tiny.c', '-o', join(scratch, 'fj.o')]
  const firsts: number[] = []
  const warms: number[] = []
  const uploads: number[] = []
  for (let i = 0; i < samples; i++) {
    await icecc.restartBuildersFresh(sig)
    // Jobs until every builder has had the toolchain uploaded (the scheduler picks the builder):
    // a job that uploads is a first job on its builder, one that does not found it installed.
    let uploadsThisSample = 0
    for (let k = 0; k < 8 && uploadsThisSample < farm.builders.length; k++) {
      const rj0 = await icecc.remoteJobs()
      const a = await wallInNs(farm, argv, scratch, env, signal)
      if ((await icecc.remoteJobs()) - rj0 !== 1) {
        throw new Error(`icecc first-job sample ${i}: a job did not run on a builder`)
      }
      const up = /Transfer Environment: (\d+)ms/.exec(a.stderr)
      if (up) {
        uploadsThisSample++
        uploads.push(Number(up[1]) / 1000)
        firsts.push(a.wall)
      } else warms.push(a.wall)
      log(
        `icecc sample ${i + 1}/${samples} job ${k + 1}: ${a.wall.toFixed(2)} s${up ? `, uploaded the toolchain in ${up[1]} ms` : ''}`,
      )
    }
    // Two more jobs with the toolchain everywhere, for the warm baseline.
    for (let k = 0; k < 2; k++) warms.push((await wallInNs(farm, argv, scratch, env, signal)).wall)
  }
  if (firsts.length === 0) throw new Error('icecc never uploaded its toolchain')
  return {
    tool: 'icecc',
    samples,
    first: median(firsts),
    warm: median(warms),
    toolchainCost: median(firsts) - median(warms),
    bytes,
    notes: [
      `icecc-create-env --gcc /usr/bin/gcc /usr/bin/g++ (once, on the client): ${createS.toFixed(2)} s, ${(bytes / 2 ** 20).toFixed(1)} MiB tarball`,
      `client-reported upload ("Transfer Environment"), median: ${median(uploads).toFixed(2)} s; samples: ${uploads.map((u) => u.toFixed(2)).join(', ')} s`,
      `first jobs on a fresh builder: ${firsts.map((c) => c.toFixed(2)).join(', ')} s; jobs that found the toolchain: median of ${warms.length}`,
    ],
  }
}

/** What a builder's daemon logged about a toolchain it pulled (`toolchain fetched from members`). */
interface Pulled {
  seconds: number
  fetchSeconds: number
  bytes: number
  wireBytes: number
  holders: number
}

async function pulls(home: string): Promise<Pulled[]> {
  const text = await readFile(join(home, 'logs', 'daemon.log'), 'utf8').catch(() => '')
  const out: Pulled[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('toolchain fetched from members')) continue
    try {
      const j = JSON.parse(line) as Partial<Pulled>
      if (typeof j.seconds === 'number' && typeof j.bytes === 'number')
        out.push({
          seconds: j.seconds,
          fetchSeconds: j.fetchSeconds ?? Number.NaN,
          bytes: j.bytes,
          wireBytes: j.wireBytes ?? Number.NaN,
          holders: j.holders ?? Number.NaN,
        })
    } catch {
      // not a JSON line
    }
  }
  return out
}

/**
 * meshcc: the client has already packaged its compiler (earlier jobs). For each sample the
 * builders are replaced by fresh members with empty toolchain stores, then the client compiles
 * `tiny.c` until every builder holds the toolchain. A job after which a builder's store went
 * from empty to holding it is a first job on that builder (it pulled the toolchain from the
 * members that hold it); the others found it. Toolchain cost = median(first) − median(others).
 * The size reported is what the builders pulled (their logs: with language sets, the C
 * toolchain of `tiny.c`, not everything the client holds), with the wire bytes and the pull's
 * own time (finding holders, pieces, materialising).
 */
export async function meshccFirstJob(
  farm: Farm,
  mesh: MeshccFarm,
  {
    scratch,
    samples,
    signal,
    log,
  }: { scratch: string; samples: number; signal?: AbortSignal; log(s: string): void },
): Promise<FirstJobResult> {
  const argv = [...mesh.prefix, 'gcc', '-O2', '-c', 'tiny.c', '-o', join(scratch, 'fj-m.o')]
  const firsts: number[] = []
  const warms: number[] = []
  const pullLog: Pulled[] = []
  // Make sure the client's own toolchain is packaged (a one-off, like icecc-create-env).
  await wallInNs(farm, argv, scratch, mesh.env, signal)
  for (let i = 0; i < samples; i++) {
    await mesh.replaceBuilders(signal ? { signal } : {})
    let held = await mesh.builderToolchains()
    for (let k = 0; k < 8 && [...held.values()].some((n) => n === 0); k++) {
      const rj0 = await mesh.remoteJobs()
      const a = await wallInNs(farm, argv, scratch, mesh.env, signal)
      if ((await mesh.remoteJobs()) - rj0 !== 1) {
        throw new Error(`meshcc first-job sample ${i}: a job did not run on a builder`)
      }
      const now = await mesh.builderToolchains()
      const pulled = [...now].filter(([b, n]) => n > 0 && held.get(b) === 0).map(([b]) => b)
      held = now
      if (pulled.length > 0) firsts.push(a.wall)
      else warms.push(a.wall)
      log(
        `meshcc sample ${i + 1}/${samples} job ${k + 1}: ${a.wall.toFixed(2)} s${pulled.length ? `, ${pulled.join(', ')} pulled the toolchain` : ''}`,
      )
    }
    for (let k = 0; k < 2; k++)
      warms.push((await wallInNs(farm, argv, scratch, mesh.env, signal)).wall)
    for (const b of mesh.builders()) pullLog.push(...(await pulls(b.home)))
  }
  if (firsts.length === 0) throw new Error('no meshcc builder ever pulled the toolchain')
  const MiB = 2 ** 20
  const sizes =
    pullLog.length > 0 ? median(pullLog.map((p) => p.bytes)) : await mesh.clientToolchainBytes()
  return {
    tool: 'meshcc',
    samples,
    first: median(firsts),
    warm: median(warms),
    toolchainCost: median(firsts) - median(warms),
    bytes: sizes,
    notes: [
      `first jobs on a fresh builder: ${firsts.map((c) => c.toFixed(2)).join(', ')} s; jobs that found the toolchain: median of ${warms.length}`,
      pullLog.length > 0
        ? `builders' pulls (their logs): ${(median(pullLog.map((p) => p.bytes)) / MiB).toFixed(1)} MiB, ` +
          `${(median(pullLog.map((p) => p.wireBytes)) / MiB).toFixed(1)} MiB on the wire, ` +
          `pull + materialise ${pullLog.map((p) => p.seconds.toFixed(2)).join(', ')} s ` +
          `(pieces in at ${pullLog.map((p) => p.fetchSeconds.toFixed(2)).join(', ')} s), ` +
          `holders ${pullLog.map((p) => p.holders).join(', ')}`
        : 'no builder logged a pull (size: every toolchain the client holds)',
    ],
  }
}
