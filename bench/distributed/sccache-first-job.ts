/**
 * The first job on a builder that lacks the toolchain, for sccache-dist (the same method as
 * first-job.ts uses for icecream and meshcc). The client has already packaged its gcc toolchain
 * (earlier jobs; its archive is in the client's toolchain cache). For each sample the servers
 * are restarted with empty toolchain caches, then the client compiles `tiny.c` until every
 * server holds the toolchain: a job after which a server's cache went from empty to holding it
 * is a first job on that server (the client uploaded the archive to it, the server unpacked it);
 * the others found it (the scheduler gives one job at a time to the same idle server, so usually
 * only one server per sample gets it within the 8 jobs). Toolchain cost = median(first jobs) −
 * median(the others); the size is what a fresh server received.
 */
import { join } from 'node:path'
import { median } from '../lib/numbers.ts'
import { run } from '../lib/proc.ts'
import type { FirstJobResult } from './first-job.ts'
import type { Farm } from './netns.ts'
import type { SccacheDistTool } from './sccache-dist.ts'

async function wall(
  farm: Farm,
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
) {
  const ns = farm.client.exec
  const t0 = process.hrtime.bigint()
  await run(ns[0]!, [...ns.slice(1), ...argv], { cwd, env, ...(signal ? { signal } : {}) })
  return Number(process.hrtime.bigint() - t0) / 1e9
}

export async function sccacheFirstJob(
  farm: Farm,
  tool: SccacheDistTool,
  {
    scratch,
    samples,
    signal,
    log,
  }: { scratch: string; samples: number; signal?: AbortSignal; log(s: string): void },
): Promise<FirstJobResult> {
  const argv = [...tool.prefix, 'gcc', '-O2', '-c', 'tiny.c', '-o', join(scratch, 'fj-s.o')]
  const firsts: number[] = []
  const warms: number[] = []
  const received: number[] = []
  // The client's toolchain archive exists already (the start-up probe), like icecc-create-env's.
  await wall(farm, argv, scratch, tool.env, signal)
  for (let i = 0; i < samples; i++) {
    await tool.restartBuildersFresh(signal ? { signal } : {})
    let held = await tool.builderToolchains()
    for (let k = 0; k < 8 && [...held.values()].some((n) => n === 0); k++) {
      const rj0 = await tool.remoteJobs()
      const w = await wall(farm, argv, scratch, tool.env, signal)
      if ((await tool.remoteJobs()) - rj0 !== 1) {
        throw new Error(`sccache-dist first-job sample ${i}: a job did not run on a server`)
      }
      const now = await tool.builderToolchains()
      const got = [...now].filter(([b, n]) => n > 0 && held.get(b) === 0).map(([b]) => b)
      held = now
      if (got.length > 0) {
        firsts.push(w)
        const bytes = await tool.builderToolchainBytes()
        for (const b of got) received.push(bytes.get(b) ?? 0)
      } else warms.push(w)
      log(
        `sccache-dist sample ${i + 1}/${samples} job ${k + 1}: ${w.toFixed(2)} s${got.length ? `, ${got.join(', ')} received the toolchain` : ''}`,
      )
    }
    for (let k = 0; k < 2; k++) warms.push(await wall(farm, argv, scratch, tool.env, signal))
  }
  if (firsts.length === 0) throw new Error('no sccache-dist server ever received the toolchain')
  return {
    tool: 'sccache-dist',
    samples,
    first: median(firsts),
    warm: median(warms),
    toolchainCost: median(firsts) - median(warms),
    // What a fresh server received (the gcc toolchain's archive), not every archive the client
    // holds (it packs one per compiler driver).
    bytes: median(received),
    notes: [
      `client's toolchain archives (gcc and g++, packed by the client's sccache server on first use of each): ${((await tool.clientToolchainBytes()) / 2 ** 20).toFixed(1)} MiB`,
      `first jobs on a fresh server: ${firsts.map((c) => c.toFixed(2)).join(', ')} s; jobs that found the toolchain: median of ${warms.length}`,
    ],
  }
}
