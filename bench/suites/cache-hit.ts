/**
 * Cache hit, same translation unit: wall time of one `<tool> gcc -c …` that is served from the
 * cache, meshcc against ccache's direct-mode hit (Debian defaults, and with its inode cache on,
 * the fastest ccache configuration) and sccache's local disk cache (its defaults, which
 * preprocess on every call, and its preprocessor cache mode; built from crates.io by
 * lib/tools/sccache-install.ts, left out with the reason when it cannot be), plain gcc for scale. hyperfine -N, several rounds with the
 * order rotated so that drifting load on a shared machine hits every tool alike; the runs of all
 * rounds are pooled for the medians.
 *
 * Before timing, each tool compiles the unit once (a miss) and again (must be a hit, with an
 * object and dependency file identical to plain gcc's); after timing, the counters must show that
 * every timed run was a hit, otherwise the figure would not measure a hit at all.
 */
import { readFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { hyperfine, type HyperfineResult } from '../lib/hyperfine.ts'
import { median, ms, quantile, ratio, rotate } from '../lib/numbers.ts'
import { run } from '../lib/proc.ts'
import { openSccache } from '../lib/tools/sccache.ts'
import { ensureSccache } from '../lib/tools/sccache-install.ts'
import type { Counters, ToolSession } from '../lib/tools/types.ts'
import { hitUnit, unitArgv } from '../lib/zstd-workload.ts'
import type { BenchContext, Check, Goal, Suite, SuiteResult } from './types.ts'

interface Subject {
  session: ToolSession
  slug: string
  argv: string[]
  out: string
}

async function sameOutputs(a: string, b: string): Promise<boolean> {
  for (const ext of ['.o', '.d']) {
    const [x, y] = await Promise.all([readFile(a + ext), readFile(b + ext)])
    if (!x.equals(y)) return false
  }
  return true
}

/** sccache sessions (default and preprocessor cache mode), or why there are none. */
async function openSccaches(ctx: BenchContext): Promise<{ sessions: ToolSession[]; why?: string }> {
  const sessions: ToolSession[] = []
  try {
    const bins = await ensureSccache(ctx.root, { signal: ctx.signal, log: ctx.log })
    for (const direct of [false, true])
      sessions.push(
        await openSccache({
          bin: bins.sccache,
          dir: join(ctx.scratch, `sccache-hit-${direct ? 'direct' : 'default'}`),
          direct,
          label: `sccache ${bins.version}${direct ? ' (SCCACHE_DIRECT)' : ''}`,
        }),
      )
    return { sessions }
  } catch (err) {
    if (ctx.signal.aborted) throw err
    for (const s of sessions) await s.close()
    return { sessions: [], why: (err as Error).message.split('\n')[0] ?? 'unknown' }
  }
}

async function runHit(ctx: BenchContext): Promise<SuiteResult> {
  // The runner closes what ctx.openTool opened; the sccache sessions are this suite's own.
  const scc = await openSccaches(ctx)
  try {
    const r = await measureHit(ctx, scc.sessions)
    if (scc.why) r.notes.push(`sccache is not measured: ${scc.why}`)
    return r
  } finally {
    for (const s of scc.sessions) await s.close()
  }
}

async function measureHit(ctx: BenchContext, extra: readonly ToolSession[]): Promise<SuiteResult> {
  const cwd = join(ctx.zstdTree, hitUnit.dir)
  const outDir = join(ctx.scratch, 'hit')
  await mkdir(outDir, { recursive: true })
  const rounds = ctx.quick ? 2 : 6
  const runs = ctx.quick ? 10 : 30
  const warmup = 3
  const plainRuns = ctx.quick ? 3 : 10
  const checks: Check[] = []
  const notes: string[] = []

  const sessions: ToolSession[] = [await ctx.openTool('gcc')]
  sessions.push(await ctx.openTool('ccache'))
  sessions.push(
    await ctx.openTool('ccache', {
      label: 'ccache (inode_cache)',
      settings: { inode_cache: 'true' },
    }),
  )
  sessions.push(...extra)
  if (ctx.tools.includes('meshcc')) sessions.push(await ctx.openTool('meshcc'))
  const subjects: Subject[] = sessions.map((session, i) => {
    const slug = `${session.tool}-${i}`
    const out = join(outDir, slug)
    return { session, slug, out, argv: unitArgv(session.prefix, out, 'MMD') }
  })
  const [plain, ...cached] = subjects as [Subject, ...Subject[]]

  // Reference output, then a miss and a checked hit per cached tool.
  const exec = (s: Subject) => run(s.argv[0]!, s.argv.slice(1), { cwd, env: s.session.env })
  await exec(plain)
  const before = new Map<Subject, Counters>()
  for (const s of cached) {
    await exec(s)
    await exec(s)
    const c = await s.session.counters()
    if (!c) continue
    before.set(s, c)
    const ok = c.hits === 1 && c.misses === 1 && c.fallbacks === 0
    checks.push({
      name: `${s.session.label}: second compile is a hit`,
      ok,
      detail: `hits ${c.hits}, misses ${c.misses}, fallbacks ${c.fallbacks}`,
    })
    const same = await sameOutputs(s.out, plain.out)
    checks.push({
      name: `${s.session.label}: hit output (.o, .d) identical to plain gcc`,
      ok: same,
      detail: same ? 'byte-identical' : 'differs',
    })
  }

  const cpu0 = new Map<Subject, number>()
  for (const s of cached) cpu0.set(s, await s.session.outsideCpu())
  const pooled = new Map<Subject, HyperfineResult[]>()
  const roundRatios: number[] = []
  const meshcc = cached.find((s) => s.session.tool === 'meshcc')
  const ccache = cached.find((s) => s.session.label === 'ccache')
  for (let r = 0; r < rounds; r++) {
    ctx.log(`cache-hit: round ${r + 1}/${rounds}`)
    for (const s of rotate(cached, r)) {
      const [res] = await hyperfine([{ name: s.slug, argv: s.argv }], {
        cwd,
        env: s.session.env,
        scratch: ctx.scratch,
        warmup,
        runs,
        signal: ctx.signal,
      })
      pooled.set(s, [...(pooled.get(s) ?? []), res!])
    }
    if (meshcc && ccache) {
      const m = pooled.get(meshcc)!.at(-1)!
      const c = pooled.get(ccache)!.at(-1)!
      roundRatios.push(median(m.times) / median(c.times))
    }
  }
  ctx.log('cache-hit: plain gcc')
  const [plainRes] = await hyperfine([{ name: 'gcc', argv: plain.argv }], {
    cwd,
    env: plain.session.env,
    scratch: ctx.scratch,
    warmup: 1,
    runs: plainRuns,
    signal: ctx.signal,
  })
  pooled.set(plain, [plainRes!])

  const perTool = rounds * (runs + warmup)
  for (const s of cached) {
    const c = await s.session.counters()
    const b = before.get(s)
    if (!c || !b) continue
    const ok = c.hits - b.hits === perTool && c.misses === b.misses && c.fallbacks === 0
    checks.push({
      name: `${s.session.label}: every timed run was a hit`,
      ok,
      detail: `${c.hits - b.hits} hits / ${perTool} runs, ${c.misses - b.misses} new misses, fallbacks ${c.fallbacks}`,
    })
  }

  const ccacheMedian = ccache ? median(pooled.get(ccache)!.flatMap((r) => r.times)) : Number.NaN
  const rows: string[][] = []
  const medians = new Map<Subject, number>()
  for (const s of subjects) {
    const results = pooled.get(s) ?? []
    const times = results.flatMap((r) => r.times)
    const cpu = results.reduce((t, r) => t + (r.user + r.system) * r.times.length, 0) / times.length
    const outside = s === plain ? 0 : ((await s.session.outsideCpu()) - cpu0.get(s)!) / perTool
    const m = median(times)
    medians.set(s, m)
    rows.push([
      s.session.label,
      String(times.length),
      ms(m),
      `${ms(quantile(times, 0.1))}–${ms(quantile(times, 0.9))}`,
      ms(cpu),
      s.session.tool === 'meshcc' || s.session.tool === 'sccache' ? ms(outside) : '–',
      ratio(m / ccacheMedian),
    ])
  }
  const goals: Goal[] = []
  const inode = cached.find((s) => s.session.label === 'ccache (inode_cache)')
  if (meshcc && ccache) {
    goals.push({
      metric: 'cache hit: meshcc ÷ ccache (direct mode)',
      value: medians.get(meshcc)! / ccacheMedian,
      goal: 1.0,
      anchor: [
        ...(inode ? [`ccache (inode_cache) ${ratio(medians.get(inode)! / ccacheMedian)}`] : []),
        ...cached
          .filter((s) => s.session.tool === 'sccache')
          .map((s) => `${s.session.label} ${ratio(medians.get(s)! / ccacheMedian)}`),
      ].join(', '),
    })
    goals.push({
      metric: 'cache hit: meshcc ÷ ccache (direct mode), later goal',
      value: medians.get(meshcc)! / ccacheMedian,
      goal: 0.5,
    })
    notes.push(
      `meshcc ÷ ccache per round (median of ${runs} runs each): ${roundRatios.map(ratio).join(', ')}`,
    )
  }
  notes.push(
    `Unit: zstd ${hitUnit.dir}/${hitUnit.source} with the flags of zstd's Makefile (-O3, -MMD -MP -MF); ` +
      `${rounds} rounds × (${warmup} warm-up + ${runs} timed runs) per cached tool, order rotated each round; plain gcc ${plainRuns} runs.`,
    'CPU per run is the client process tree as hyperfine sees it; meshcc and sccache also spend CPU in their local server (sccache runs the preprocessor there), shown per hit.',
  )
  return {
    id: 'cache-hit',
    title: 'Cache hit, same translation unit (wall time per invocation)',
    tables: [
      {
        title: 'Cache hit',
        columns: [
          'tool',
          'runs',
          'median ms',
          'p10–p90 ms',
          'CPU ms/run (client)',
          'daemon CPU ms/hit',
          '÷ ccache',
        ],
        rows,
      },
    ],
    goals,
    checks,
    notes,
  }
}

export const cacheHitSuite: Suite = {
  id: 'cache-hit',
  title: 'Cache hit, same translation unit',
  issue: 3,
  run: runHit,
}
