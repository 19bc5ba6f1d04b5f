/**
 * A real C project built cold and warm with plain gcc, ccache and meshcc (`make -jN` of Debian's
 * zstd source package). One loop yields two of issue 3's figures:
 *
 * - miss overhead: a cold build (empty cache, every compile a miss) ÷ the plain build;
 * - the project table: wall and CPU seconds, cold then warm (after `make clean`, cache full).
 *
 * Each repetition opens a fresh session per tool (empty CCACHE_DIR / MESHCC_HOME, daemon started
 * on demand by the first compile, stopped at the end) and the tool order rotates between
 * repetitions. CPU is the user + sys time of the whole `make` tree, plus, for meshcc, the CPU of
 * its detached daemon and of the compilers that daemon ran. Every object of every build is compared
 * with the plain build's, and the warm builds must be all hits.
 */
import { median, ratio, rotate, secs } from '../lib/numbers.ts'
import { run, timed } from '../lib/proc.ts'
import type { Counters, ToolName, ToolSession } from '../lib/tools/types.ts'
import {
  compareObjects,
  objectCount,
  objectHashes,
  zstdMakeVars,
  zstdPackage,
} from '../lib/zstd-workload.ts'
import type { BenchContext, Check, Goal, Suite, SuiteResult } from './types.ts'

interface Build {
  wall: number
  cpu: number
  /** Part of `cpu` spent outside the make tree (meshcc's daemon and its compilers). */
  outside: number
  objects: number
  counters: Counters | null
  diffs: string[]
}

interface Sample {
  cold: Build
  warm: Build
}

function counterText(c: Counters | null): string {
  return c
    ? `${c.hits} hits, ${c.misses} misses, ${c.uncacheable} uncacheable, ${c.fallbacks} fallbacks`
    : '–'
}

async function runBuild(ctx: BenchContext): Promise<SuiteResult> {
  const tree = ctx.zstdTree
  const targets = ctx.quick ? ['zstd-release'] : ['lib-release', 'zstd-release']
  const checks: Check[] = []
  const notes: string[] = []
  let reference: Map<string, string> | undefined

  const make = (s: ToolSession, extra: string[]) => [
    `-j${ctx.jobs}`,
    ...zstdMakeVars,
    `CC=${[...s.prefix, 'gcc'].join(' ')}`,
    ...extra,
  ]
  async function clean(s: ToolSession): Promise<void> {
    await run('make', make(s, ['clean']), { cwd: tree, env: s.env, signal: ctx.signal })
    const left = await objectHashes(tree)
    if (left.size > 0) throw new Error(`make clean left ${left.size} objects in ${tree}`)
  }
  async function build(s: ToolSession, counters0: Counters | null): Promise<Build> {
    const cpu0 = await s.outsideCpu()
    const t = await timed('make', make(s, targets), ctx.scratch, {
      cwd: tree,
      env: s.env,
      signal: ctx.signal,
    })
    const outside = (await s.outsideCpu()) - cpu0
    const cpu = t.user + t.sys + outside
    const objects = await objectHashes(tree)
    reference ??= objects
    const now = await s.counters()
    const counters = now && counters0 ? subtract(now, counters0) : now
    return {
      wall: t.wall,
      cpu,
      outside,
      objects: objectCount(objects),
      counters,
      diffs: compareObjects(reference, objects),
    }
  }

  const order: ToolName[] = ['gcc', ...ctx.tools.filter((t) => t !== 'gcc')]
  const samples = new Map<ToolName, Sample[]>()
  const labels = new Map<ToolName, string>()
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const tool of rotate(order, rep)) {
      ctx.log(`project-build: repetition ${rep + 1}/${ctx.reps}, ${tool}`)
      const s = await ctx.openTool(tool)
      labels.set(tool, s.label)
      try {
        await clean(s)
        const c0 = await s.counters()
        const cold = await build(s, c0)
        await clean(s)
        const c1 = await s.counters()
        const warm = await build(s, c1)
        samples.set(tool, [...(samples.get(tool) ?? []), { cold, warm }])
        ctx.log(
          `  cold ${secs(cold.wall)} s wall ${secs(cold.cpu)} s CPU; warm ${secs(warm.wall)} s wall ${secs(warm.cpu)} s CPU`,
        )
      } finally {
        await s.close()
      }
    }
  }

  // Correctness conditions behind the figures.
  const plain = samples.get('gcc') ?? []
  const plainDiffs = plain.flatMap((p) => [...p.cold.diffs, ...p.warm.diffs])
  checks.push({
    name: 'plain gcc builds at the same path are byte-identical (workload is reproducible)',
    ok: plainDiffs.length === 0,
    detail:
      plainDiffs.length === 0
        ? `${plain.length * 2} builds, ${reference ? objectCount(reference) : 0} objects and their .d files`
        : plainDiffs.slice(0, 5).join('; '),
  })
  for (const tool of order.filter((t) => t !== 'gcc')) {
    const list = samples.get(tool) ?? []
    const diffs = list.flatMap((p) => [...p.cold.diffs, ...p.warm.diffs])
    checks.push({
      name: `${labels.get(tool)}: objects and .d files of cold and warm builds identical to plain gcc's`,
      ok: diffs.length === 0,
      detail:
        diffs.length === 0
          ? 'all identical'
          : `${diffs.length} differences: ${diffs.slice(0, 5).join('; ')}`,
    })
    const allHits = list.every(
      (p) =>
        p.warm.counters && p.warm.counters.hits === p.warm.objects && p.warm.counters.misses === 0,
    )
    const noFallback = list.every(
      (p) => (p.cold.counters?.fallbacks ?? 0) + (p.warm.counters?.fallbacks ?? 0) === 0,
    )
    checks.push({
      name: `${labels.get(tool)}: cold build all misses, warm build all hits, no fallbacks`,
      ok: allHits && noFallback && list.every((p) => p.cold.counters?.misses === p.cold.objects),
      detail: list
        .map((p) => `cold: ${counterText(p.cold.counters)}; warm: ${counterText(p.warm.counters)}`)
        .join(' | '),
    })
  }

  const med = (tool: ToolName, f: (s: Sample) => number) => median((samples.get(tool) ?? []).map(f))
  const range = (tool: ToolName, f: (s: Sample) => number) => {
    const xs = (samples.get(tool) ?? []).map(f)
    return xs.length > 1 ? `${secs(Math.min(...xs))}–${secs(Math.max(...xs))}` : '–'
  }
  // Each repetition's build ÷ the plain build of the same repetition (run next to it in time):
  // less exposed than the medians to load drifting on a shared machine.
  const paired = (tool: ToolName) => {
    const plainWalls = (samples.get('gcc') ?? []).map((s) => s.cold.wall)
    return (samples.get(tool) ?? []).map((s, i) => s.cold.wall / (plainWalls[i] ?? Number.NaN))
  }
  const base = { wall: med('gcc', (s) => s.cold.wall), cpu: med('gcc', (s) => s.cold.cpu) }
  const missRows = order.map((t) => [
    labels.get(t) ?? t,
    secs(med(t, (s) => s.cold.wall)),
    range(t, (s) => s.cold.wall),
    ratio(med(t, (s) => s.cold.wall) / base.wall),
    secs(med(t, (s) => s.cold.cpu)),
    ratio(med(t, (s) => s.cold.cpu) / base.cpu),
    paired(t).map(ratio).join(', ') || '–',
  ])
  const projectRows = order.map((t) => [
    labels.get(t) ?? t,
    secs(med(t, (s) => s.cold.wall)),
    secs(med(t, (s) => s.cold.cpu)),
    secs(med(t, (s) => s.warm.wall)),
    secs(med(t, (s) => s.warm.cpu)),
    ratio(med(t, (s) => s.warm.wall) / base.wall),
    t === 'meshcc'
      ? `${secs(med(t, (s) => s.cold.outside))} / ${secs(med(t, (s) => s.warm.outside))}`
      : '–',
    String(samples.get(t)?.[0]?.cold.objects ?? '–'),
  ])
  const goals: Goal[] = []
  if (samples.has('meshcc')) {
    goals.push({
      metric: 'miss overhead: meshcc cold build ÷ plain gcc (wall)',
      value: med('meshcc', (s) => s.cold.wall) / base.wall,
      goal: 1.05,
      anchor: `ccache ${ratio(med('ccache', (s) => s.cold.wall) / base.wall)}`,
    })
    goals.push({
      metric: 'miss overhead: meshcc cold build ÷ plain gcc (CPU, incl. daemon)',
      value: med('meshcc', (s) => s.cold.cpu) / base.cpu,
      goal: 1.05,
      anchor: `ccache ${ratio(med('ccache', (s) => s.cold.cpu) / base.cpu)}`,
    })
  }
  notes.push(
    `Workload: Debian source package ${zstdPackage.name} ${zstdPackage.version} (upstream tree), ` +
      `\`make -j${ctx.jobs} ${zstdMakeVars.join(' ')} CC="<tool> gcc" ${targets.join(' ')}\`; ` +
      `${ctx.reps} repetition(s) per tool, tool order rotated; medians shown.`,
    'Cold: empty cache (fresh CCACHE_DIR / MESHCC_HOME; meshcc daemon started by the first compile). ' +
      'Warm: `make clean`, then the same build with the cache the cold build filled.',
    'CPU = user + sys of the whole make tree (GNU time), plus for meshcc the detached daemon and the compilers it ran (/proc/<pid>/stat).',
  )
  return {
    id: 'project-build',
    title: `Real project: Debian ${zstdPackage.name} ${zstdPackage.version}, make -j${ctx.jobs}`,
    tables: [
      {
        title: 'Miss overhead (cold cache, every compile a miss)',
        columns: [
          'tool',
          'wall s',
          'wall range s',
          'wall ÷ plain',
          'CPU s',
          'CPU ÷ plain',
          'wall ÷ plain, per repetition',
        ],
        rows: missRows,
      },
      {
        title: 'Cold then warm build',
        columns: [
          'tool',
          'cold wall s',
          'cold CPU s',
          'warm wall s',
          'warm CPU s',
          'warm wall ÷ plain',
          'of CPU: daemon s (cold / warm)',
          'objects',
        ],
        rows: projectRows,
      },
    ],
    goals,
    checks,
    notes,
  }
}

function subtract(a: Counters, b: Counters): Counters {
  return {
    hits: a.hits - b.hits,
    misses: a.misses - b.misses,
    uncacheable: a.uncacheable - b.uncacheable,
    fallbacks: a.fallbacks - b.fallbacks,
    raw: a.raw,
  }
}

export const projectBuildSuite: Suite = {
  id: 'project-build',
  title: 'Real C project, cold and warm; miss overhead',
  issue: 3,
  run: runBuild,
}
