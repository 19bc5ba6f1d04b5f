/**
 * Anatomy of a miss: one compile of the cache-hit unit into an empty cache, single job, so no
 * parallelism or build-system effect hides the cost. Three ways of asking for a dependency file
 * (zstd's own `-MMD -MP`, `-MD`, none) show what a cache has to do beyond the compile on a miss
 * (for instance a dependency-only preprocessor pass to learn the system headers -MMD leaves out).
 *
 * Each measured compile gets a fresh session, primed by one compile of a different small file
 * (meshcc's daemon is then already running, as it is for a user; ccache has made its directories),
 * so the figure is the miss itself. Wall time and CPU (meshcc: client + daemon) per compile.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { median, ms, ratio, rotate } from '../lib/numbers.ts'
import { run, timed } from '../lib/proc.ts'
import type { ToolName } from '../lib/tools/types.ts'
import { type DepMode, hitUnit, unitArgv } from '../lib/zstd-workload.ts'
import type { BenchContext, Check, Suite, SuiteResult } from './types.ts'

interface Miss {
  wall: number
  cpu: number
  outside: number
}

async function runMissUnit(ctx: BenchContext): Promise<SuiteResult> {
  const cwd = join(ctx.zstdTree, hitUnit.dir)
  const dir = join(ctx.scratch, 'miss-unit')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'prime.c'), 'int prime(int x) { return x + 1; }\n')
  const reps = ctx.quick ? 2 : 5
  const modes: DepMode[] = ['MMD', 'MD', 'none']
  const samples = new Map<string, Miss[]>()
  const checks: Check[] = []
  const bad: string[] = []
  const labels = new Map<ToolName, string>()

  for (let r = 0; r < reps; r++) {
    ctx.log(`miss-unit: repetition ${r + 1}/${reps}`)
    for (const mode of modes) {
      for (const tool of rotate(ctx.tools, r)) {
        const s = await ctx.openTool(tool)
        labels.set(tool, s.label)
        try {
          const prime = [...s.prefix, 'gcc', '-c', 'prime.c', '-o', 'prime.o']
          await run(prime[0]!, prime.slice(1), { cwd: dir, env: s.env, signal: ctx.signal })
          const argv = unitArgv(s.prefix, join(dir, `${tool}-${mode}`), mode)
          const cpu0 = await s.outsideCpu()
          const t = await timed(argv[0]!, argv.slice(1), ctx.scratch, {
            cwd,
            env: s.env,
            signal: ctx.signal,
          })
          const outside = (await s.outsideCpu()) - cpu0
          const key = `${mode} ${tool}`
          samples.set(key, [
            ...(samples.get(key) ?? []),
            { wall: t.wall, cpu: t.user + t.sys + outside, outside },
          ])
          const c = await s.counters()
          if (c && (c.misses !== 2 || c.hits !== 0 || c.fallbacks !== 0)) {
            bad.push(`${key}: hits ${c.hits}, misses ${c.misses}, fallbacks ${c.fallbacks}`)
          }
        } finally {
          await s.close()
        }
      }
    }
  }
  checks.push({
    name: 'every measured compile was a cache miss, without fallback',
    ok: bad.length === 0,
    detail:
      bad.length === 0 ? `${reps * modes.length * (ctx.tools.length - 1)} misses` : bad.join('; '),
  })

  const rows: string[][] = []
  for (const mode of modes) {
    const plain = samples.get(`${mode} gcc`) ?? []
    const pw = median(plain.map((m) => m.wall))
    const pc = median(plain.map((m) => m.cpu))
    for (const tool of ctx.tools) {
      const xs = samples.get(`${mode} ${tool}`) ?? []
      const w = median(xs.map((m) => m.wall))
      const c = median(xs.map((m) => m.cpu))
      rows.push([
        mode === 'none' ? 'no depfile' : `-${mode}`,
        labels.get(tool) ?? tool,
        ms(w),
        ratio(w / pw),
        ms(c),
        ratio(c / pc),
        tool === 'meshcc' ? ms(median(xs.map((m) => m.outside))) : '–',
      ])
    }
  }
  return {
    id: 'miss-unit',
    title: 'Anatomy of a miss: one compile into an empty cache',
    tables: [
      {
        title: 'Single-compile miss',
        columns: [
          'depfile',
          'tool',
          'wall ms',
          'wall ÷ plain',
          'CPU ms',
          'CPU ÷ plain',
          'of CPU: daemon ms',
        ],
        rows,
      },
    ],
    goals: [],
    checks,
    notes: [
      `Unit: zstd ${hitUnit.dir}/${hitUnit.source}; ${reps} repetitions per row (medians), tool order rotated; ` +
        'a fresh cache per compile, primed by one compile of another file (meshcc daemon already running).',
      'CPU comes in 10 ms clock ticks (GNU time, /proc/<pid>/stat): each CPU figure is ±10 ms, i.e. about ±3 % of a ~300 ms compile.',
    ],
  }
}

export const missUnitSuite: Suite = {
  id: 'miss-unit',
  title: 'Anatomy of a miss (single compile, empty cache)',
  issue: 3,
  run: runMissUnit,
}
