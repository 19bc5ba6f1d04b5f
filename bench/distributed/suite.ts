/**
 * The distributed-compilation suite of `npm run bench` (issue 5): meshcc against distcc and
 * icecream (Debian's packages) and sccache-dist (built from crates.io) side by side in one run,
 * on the same three network namespaces (one client, two builders; see netns.ts). Measures the
 * per-job overhead of a remote compile (wall and client CPU), whole-build wall time of a real C
 * and a real C++ project, and the first job on a builder that lacks the toolchain.
 *
 * meshcc is measured only when a compile with `MESHCC_MODE=remote` really runs on a builder
 * (`remote_compiles > 0`); otherwise its column is left out with the reason, never estimated.
 * The same holds for sccache-dist (a probe compile must run on a server).
 *
 * To enable: add `distributedSuite` to the list in `bench/suites/index.ts`.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ms, ratio, secs } from '../lib/numbers.ts'
import { run } from '../lib/proc.ts'
import { ensureSccache } from '../lib/tools/sccache-install.ts'
import type { Check, Goal, Suite, SuiteResult, Table } from '../suites/types.ts'
import { measureBuilds } from './builds.ts'
import { stopAllDaemons } from './daemon-process.ts'
import { startDistcc } from './distcc.ts'
import type { FarmTool } from './farm-tool.ts'
import { type FirstJobResult, iceccFirstJob, meshccFirstJob } from './first-job.ts'
import { startIcecc } from './icecc.ts'
import { type MeshccFarm, startMeshccFarm } from './meshcc-farm.ts'
import { createFarm } from './netns.ts'
import { ensureDistributedPackages } from './packages.ts'
import { measurePerJob, summarise } from './per-job.ts'
import { type SccacheDistTool, startSccacheDist } from './sccache-dist.ts'
import { sccacheFirstJob } from './sccache-first-job.ts'
import { perJobUnits } from './units.ts'
import { fetchYamlCpp, unpackYamlCpp, yamlPackage } from './yaml-workload.ts'

export interface DistributedOptions {
  root: string
  scratch: string
  zstdTree: string
  quick: boolean
  /** Leave meshcc out without trying it. */
  noMeshcc?: boolean
  /** Leave sccache-dist out (it is built from crates.io on first use, which takes a while). */
  noSccache?: boolean
  signal: AbortSignal
  log(line: string): void
}

/** Starts meshcc and checks that a remote-mode compile really ran on a builder. */
async function tryMeshcc(
  o: DistributedOptions,
  farm: Awaited<ReturnType<typeof createFarm>>,
): Promise<{ mesh?: MeshccFarm; why: string }> {
  let mesh: MeshccFarm | undefined
  try {
    mesh = await startMeshccFarm(farm, o.root, { signal: o.signal, log: o.log })
    // A C and a C++ probe: each language has its own toolchain set, packaged once on the
    // client; the probes keep that one-off cost out of the per-job figures (as for sccache-dist).
    await run('sh', [
      '-c',
      `echo 'int probe(int x) { return x + 1; }' | tee ${join(o.scratch, 'probe.c')} > ${join(o.scratch, 'probe.cpp')}`,
    ])
    const ns = farm.client.exec
    let r = { code: 0 }
    for (const [cc, src] of [
      ['gcc', 'probe.c'],
      ['g++', 'probe.cpp'],
    ] as const) {
      const one = await run(ns[0]!, [...ns.slice(1), mesh.bin, cc, '-c', src, '-o', `${src}.o`], {
        cwd: o.scratch,
        env: mesh.env,
        signal: o.signal,
        allowFailure: true,
      })
      if (one.code !== 0) r = one
    }
    const s = await mesh.stats()
    const remote = typeof s['remote_compiles'] === 'number' ? s['remote_compiles'] : 0
    if (r.code !== 0 || remote < 1) {
      const reasons = JSON.stringify(
        s['remote_fallback_reasons'] ?? s['local_fallback_reasons'] ?? {},
      )
      await mesh.stop()
      return {
        why: `not measured: MESHCC_MODE=remote compile gave remote_compiles ${remote} (exit ${r.code}, fallback reasons ${reasons})`,
      }
    }
    return { mesh, why: mesh.describe() }
  } catch (err) {
    await mesh?.stop().catch(() => {})
    return { why: `not measured: ${(err as Error).message.split('\n')[0]}` }
  }
}

/** Builds sccache if needed and starts sccache-dist; a failure leaves it out with the reason. */
async function trySccacheDist(
  o: DistributedOptions,
  farm: Awaited<ReturnType<typeof createFarm>>,
  dir: string,
): Promise<{ tool?: SccacheDistTool; why: string }> {
  try {
    const bins = await ensureSccache(o.root, { signal: o.signal, log: o.log })
    const tool = await startSccacheDist(farm, dir, bins, { slotsPerBuilder: 2, signal: o.signal })
    return { tool, why: tool.describe() }
  } catch (err) {
    if (o.signal.aborted) throw err
    return { why: `not measured: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}` }
  }
}

export async function runDistributed(o: DistributedOptions): Promise<SuiteResult> {
  const { signal, log } = o
  const quick = o.quick
  await ensureDistributedPackages({ signal, log })
  const downloads = join(o.root, 'bench', 'work', 'downloads')
  const yamlTree = join(o.scratch, 'yaml-cpp')
  await unpackYamlCpp(await fetchYamlCpp(downloads, { signal, log }), yamlTree, signal)
  const scratch = join(o.scratch, 'distributed')
  await rm(scratch, { recursive: true, force: true })
  await mkdir(scratch, { recursive: true })
  const farm = await createFarm({ rate: '1gbit', signal })
  const tools: FarmTool[] = []
  const notes: string[] = []
  const checks: Check[] = []
  const goals: Goal[] = []
  const tables: Table[] = []
  try {
    log(`distributed: namespaces ${farm.client.ns}, ${farm.builders.map((b) => b.ns).join(', ')}`)
    tools.push(await startDistcc(farm, join(scratch, 'distcc'), { slotsPerBuilder: 2, signal }))
    const icecc = await startIcecc(farm, join(scratch, 'icecc'), { slotsPerBuilder: 2, signal })
    tools.push(icecc)
    const sccTry = o.noSccache
      ? { why: 'not measured (--no-sccache)' }
      : await trySccacheDist(o, farm, join(scratch, 'sccache-dist'))
    const scc = 'tool' in sccTry ? sccTry.tool : undefined
    if (scc) tools.push(scc)
    log(`distributed: sccache-dist ${sccTry.why}`)
    const meshTry = o.noMeshcc ? { why: 'not measured (--no-meshcc)' } : await tryMeshcc(o, farm)
    const mesh = meshTry.mesh
    if (mesh) tools.push(mesh)
    log(`distributed: meshcc ${meshTry.why}`)

    // 1. Per-job overhead.
    const units = await perJobUnits(scratch, o.zstdTree, yamlTree)
    const perJob = summarise(
      await measurePerJob({
        farm,
        tools,
        units,
        scratch,
        rounds: quick ? 2 : 4,
        runs: quick ? 3 : 5,
        warmup: 1,
        signal,
        log,
      }),
    )
    const perJobTable: Table = {
      title: 'Per-job overhead of a remote compile (client namespace → builder)',
      columns: [
        'unit',
        'tool',
        'runs',
        'median wall ms',
        'p10–p90 ms',
        'wall overhead ms (− local)',
        'client CPU ms/job',
        'of which client daemon ms/job',
        'jobs on a builder',
      ],
      rows: perJob.map((r) => [
        r.unit,
        r.tool === 'local' ? 'local gcc (baseline)' : r.tool,
        String(r.runs),
        ms(r.wall),
        `${ms(r.p10)}–${ms(r.p90)}`,
        r.tool === 'local' ? '–' : ms(r.overhead),
        ms(r.clientCpu),
        r.tool === 'local' ? '–' : ms(r.daemonCpu),
        r.tool === 'local' ? '(local)' : `${r.remoteJobs}/${r.jobs}`,
      ]),
    }
    tables.push(perJobTable)
    for (const r of perJob) {
      if (r.tool === 'local') continue
      checks.push({
        name: `${r.tool}, ${r.unit}: every job compiled on a builder`,
        ok: r.remoteJobs === r.jobs,
        detail: `${r.remoteJobs} of ${r.jobs} jobs (warm-ups included)`,
      })
    }
    if (mesh) {
      for (const u of units) {
        const get = (t: string) => perJob.find((r) => r.unit === u.id && r.tool === t)
        const m = get('meshcc')
        const d = get('distcc')
        const i = get('icecc')
        const sc = get('sccache-dist')
        if (!m || !d || !i) continue
        const better = Math.min(d.overhead, i.overhead)
        goals.push({
          metric: `per-job wall overhead (${u.id}): meshcc − better of distcc/icecc, ms`,
          value: (m.overhead - better) * 1000,
          goal: 0,
          anchor: `meshcc ${ms(m.overhead)}, distcc ${ms(d.overhead)}, icecc ${ms(i.overhead)}${sc ? `, sccache-dist ${ms(sc.overhead)}` : ''} ms`,
        })
        goals.push({
          metric: `client CPU per remote job (${u.id}): meshcc ÷ distcc`,
          value: m.clientCpu / d.clientCpu,
          goal: 1,
          anchor: `meshcc ${ms(m.clientCpu)}, distcc ${ms(d.clientCpu)}, icecc ${ms(i.clientCpu)}${sc ? `, sccache-dist ${ms(sc.clientCpu)}` : ''} ms`,
        })
      }
    }
    notes.push(
      `Per-job units: ${units.map((u) => u.title).join('; ')}. hyperfine -N inside the client namespace, ${quick ? 2 : 4} rounds × (1 warm-up + ${quick ? 3 : 5} runs) per tool and unit, tool order rotated each round, runs pooled. Wall overhead = median remote − median local (plain gcc on the client) in the same run.`,
      "Client CPU per job = user + sys of the compile command's process tree (the tool's client and the preprocessor it runs) + the CPU its client-side daemon spent meanwhile ÷ jobs (icecc: the client's iceccd; sccache-dist: the client's sccache server, which runs the preprocessor; meshcc: the client daemon and what it ran; distcc has none). Builders' CPU is not counted.",
      "All three hosts share this machine's cores: a remote compile here costs the same CPU as a local one, so these figures compare the tools' overheads, not the speed-up a real farm gives. Other work runs on the machine too: on the real units a difference of less than ~100 ms is within the noise (a negative overhead means the remote compile happened to get more CPU than the local one); the tiny unit shows the fixed cost per job most clearly.",
      'meshcc runs with MESHCC_RECACHE=1 and sccache-dist with SCCACHE_RECACHE=1, so each of their jobs skips the cache lookup, compiles, and stores the result in the local cache (as a normal miss does); distcc and icecream have no cache.',
    )

    // 2. Whole builds.
    const builds = await measureBuilds({
      farm,
      tools,
      zstdTree: o.zstdTree,
      yamlTree,
      scratch,
      // The same -j as the tools: on a shared machine fewer processes would get a smaller share.
      localJobs: 4,
      reps: 1,
      quick: true,
      signal,
      log,
    })
    const localWall = (p: string) =>
      builds.find((b) => b.project === p && b.tool === 'local')?.wall ?? Number.NaN
    tables.push({
      title: 'Whole builds (from the client namespace, clean tree)',
      columns: [
        'project',
        'tool',
        'make -j',
        'wall s',
        'wall ÷ local',
        'client CPU s',
        'objects',
        'compiled on a builder',
        'objects ≠ local build',
      ],
      rows: builds.map((b) => [
        b.project,
        b.tool === 'local' ? 'local gcc' : b.tool,
        String(b.jobs),
        b.error ? '**failed**' : secs(b.wall),
        b.error ? '–' : ratio(b.wall / localWall(b.project)),
        b.error ? '–' : secs(b.clientCpu),
        String(b.objects),
        b.tool === 'local' ? '–' : String(b.remoteJobs),
        b.tool === 'local' ? '(reference)' : String(b.diffs.length),
      ]),
    })
    for (const b of builds) {
      if (Object.keys(b.counterDelta).length > 0)
        notes.push(
          `${b.tool} counters over the ${b.project} build: ${Object.entries(b.counterDelta)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        )
      if (b.tool === 'local') continue
      checks.push({
        name: `${b.tool}, ${b.project}: objects byte-identical to the local build`,
        ok: b.diffs.length === 0 && b.objects > 0,
        detail:
          b.diffs.length === 0 ? `${b.objects} objects identical` : b.diffs.slice(0, 5).join(', '),
      })
    }
    notes.push(
      `Whole builds: C = Debian libzstd (the \`zstd\` program, 43 units at -O3: \`make -jN HAVE_ZLIB=0 HAVE_LZMA=0 HAVE_LZ4=0 CC="<tool> gcc" zstd-release\`); C++ = Debian ${yamlPackage.name} ${yamlPackage.version} (library, CMake Release, tests/tools off, \`CMAKE_CXX_COMPILER_LAUNCHER=<tool>\`, configure not timed, \`make -jN\`). -j4 for every tool = the builders' remote slots (2 builders × 2); local gcc gets -j4 too, since on this shared machine fewer processes would simply get a smaller share of the same cores. One build per tool, local gcc included in the rotated order; the local build's objects are the reference for the comparison. The machine is shared (other work runs on it), so single builds carry noise of tens of percent. Link steps and other non-compile work run on the client for every tool.`,
    )

    // 3. First job on a builder that lacks the toolchain.
    const samples = quick ? 1 : 3
    const firsts: FirstJobResult[] = [
      await iceccFirstJob(farm, icecc, { scratch, samples, signal, log }),
    ]
    if (scc) firsts.push(await sccacheFirstJob(farm, scc, { scratch, samples, signal, log }))
    if (mesh) firsts.push(await meshccFirstJob(farm, mesh, { scratch, samples, signal, log }))
    tables.push({
      title: 'First job on a builder lacking the toolchain (tiny.c)',
      columns: [
        'tool',
        'first jobs (median) s',
        'next jobs (median) s',
        'toolchain cost s',
        'toolchain size',
      ],
      rows: firsts.map((f) => [
        f.tool,
        secs(f.first),
        secs(f.warm),
        secs(f.toolchainCost),
        f.tool === 'icecc'
          ? `${(f.bytes / 2 ** 20).toFixed(1)} MiB tar.gz (uploaded by the client)`
          : f.tool === 'sccache-dist'
            ? `${(f.bytes / 2 ** 20).toFixed(1)} MiB archive (uploaded by the client)`
            : `${(f.bytes / 2 ** 20).toFixed(1)} MiB of files (pulled from members)`,
      ]),
    })
    for (const f of firsts) notes.push(`${f.tool} first job: ${f.notes.join('; ')}`)
    const mf = firsts.find((f) => f.tool === 'meshcc')
    if (mf) {
      goals.push({
        metric: 'first job on a builder lacking the toolchain: meshcc toolchain cost, s',
        value: mf.toolchainCost,
        goal: 1.5,
        anchor: firsts
          .filter((f) => f.tool !== 'meshcc')
          .map((f) => `${f.tool} ${secs(f.toolchainCost)} s`)
          .join(', '),
      })
    }
    if (!scc)
      notes.push(
        `**The sccache-dist column is missing**: ${sccTry.why}. No sccache-dist figure was estimated.`,
      )
    if (!mesh)
      notes.push(
        `**The meshcc column is missing**: ${meshTry.why}. No meshcc figure was estimated.`,
      )
    notes.push(
      `Set-up: ${farm.shaping}; ${tools.map((t) => `${t.name}: ${t.describe()}`).join(' | ')}`,
    )
    return {
      id: 'distributed',
      title:
        'Distributed compilation: meshcc, distcc, icecream and sccache-dist on three network namespaces',
      tables,
      goals,
      checks,
      notes,
    }
  } finally {
    for (const t of tools) await t.stop().catch(() => {})
    await stopAllDaemons()
    await farm.destroy()
  }
}

export const distributedSuite: Suite = {
  id: 'distributed',
  title: 'Distributed compilation against distcc, icecream and sccache-dist (3 network namespaces)',
  issue: 5,
  run: (ctx) =>
    runDistributed({
      root: ctx.root,
      scratch: ctx.scratch,
      zstdTree: ctx.zstdTree,
      quick: ctx.quick,
      noMeshcc: !ctx.tools.includes('meshcc'),
      signal: ctx.signal,
      log: ctx.log,
    }),
}
