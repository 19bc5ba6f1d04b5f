/**
 * `node bench/scheduling/simulate.ts [--seeds N] [--quick] [--only ID] [--write FILE] [--json]`
 *
 * Runs the scheduling simulation (the real placement code against simulated builders, in
 * virtual time) for every scenario and picker, over N generated farms (default 5; `--quick`: 2),
 * and prints Markdown tables: makespan ÷ ideal bound (median and worst over the farms), how many
 * farms finished within 10 % of the bound, busy answers per job, share of jobs run locally and
 * slot utilisation. `--write FILE` also writes the tables with the method to FILE. The exit code
 * is 1 when the goal (power-of-2, scenario `history`: median within 10 % of the bound) is missed.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runScenario, SCENARIOS, type Summary } from './scenarios.ts'
import { DEFAULT_SIM } from './simulator.ts'
import { DEFAULT_WORKLOAD } from './workload.ts'

export interface SimulationReport {
  seeds: number[]
  summaries: Summary[]
  markdown: string
  goalMet: boolean
}

export async function runSimulation(
  options: { seeds?: number; only?: string; log?: (line: string) => void } = {},
): Promise<SimulationReport> {
  const seeds = Array.from({ length: options.seeds ?? 5 }, (_, i) => i + 1)
  const summaries: Summary[] = []
  const sections: string[] = []
  let goalMet = true
  for (const sc of SCENARIOS) {
    if (options.only !== undefined && options.only !== sc.id) continue
    const rows = await runScenario(sc, seeds)
    summaries.push(...rows)
    options.log?.(`scheduling: ${sc.id} done`)
    sections.push(table(sc.id, sc.title, rows))
    const p2 = rows.find((r) => r.picker === 'power-of-2')
    if (sc.goal && p2 !== undefined && p2.medianRatio > 1.1) goalMet = false
  }
  const markdown = [header(seeds.length), ...sections].join('\n\n')
  return { seeds, summaries, markdown, goalMet }
}

function header(n: number): string {
  const w = DEFAULT_WORKLOAD
  const s = DEFAULT_SIM
  return [
    'Scheduling simulation (`node bench/scheduling/simulate.ts`): the real `src/scheduler/`',
    `placement (Placement + runWithPlacement) against simulated builders in virtual time, ${n}`,
    `generated farms per row (seeds 1–${n}).`,
    '',
    `- Farm: ${w.members} members, cores drawn from {2, 4, 8, 16, 32}, speeds log-uniform`,
    '  0.5–2×; the clients are members too (their cores serve other clients).',
    `- Jobs: ${w.jobs}, work log-normal with median ${w.medianMs} ms and σ ${w.sigma} (of ln s),`,
    `  clipped to ${w.minMs} ms–${w.maxMs / 1000} s; every client submits its share at once`,
    '  (`make -j` wide enough), longest estimate first when history gives estimates.',
    `- Information: adverts every ${s.advertIntervalMs / 1000} s (random phase), gossip delay`,
    `  ${s.gossipDelayMs.join('–')} ms unless stated; round trips 0.2–3 ms (three members at`,
    `  20–30 ms), ${s.transferMs} ms transfer each way; a builder grants a reservation if a slot`,
    '  is free when it arrives, else answers busy at once. Rows "daemon protocol": what the daemon',
    '  does, the client first skips members its own accounting (adverts, its jobs since) shows',
    '  full, then reserves with that round trip. Rows "no reservation round trip": the daemon',
    '  before 2026-11-27, the client reserves from its accounting alone and the builder answers',
    '  busy when the job itself arrives; a busy job goes to another member at once.',
    '- Bound: max(total work ÷ total capacity, longest job on the fastest member). Goal: power-of-2',
    '  within 10 % of it (scenario `history`, median over the farms).',
  ].join('\n')
}

function table(id: string, title: string, rows: readonly Summary[]): string {
  const f = (x: number, d = 2) => x.toFixed(d)
  const lines = [
    `**${id}** — ${title}`,
    '',
    '| picker | makespan ÷ bound (median) | worst | farms within 10 % | mean makespan | mean bound | busy answers / job | run locally | slot utilisation |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  const first = rows[0]
  if (first !== undefined) {
    const [lo, hi] = first.workShare
    lines.splice(
      1,
      0,
      '',
      `The longest job sets the bound in ${first.longestBound} of ${first.runs} farms; total work ÷ ` +
        `capacity is ${f(100 * lo, 0)}–${f(100 * hi, 0)} % of the bound.`,
    )
  }
  for (const r of rows) {
    lines.push(
      `| ${r.picker} | ${f(r.medianRatio, 3)} | ${f(r.worstRatio, 3)} | ${r.within10}/${r.runs} | ` +
        `${f(r.meanMakespanMs / 1000, 1)} s | ${f(r.meanBoundMs / 1000, 1)} s | ` +
        `${f(r.busyPerJob, 1)} | ${f(100 * r.localShare, 0)} % | ${f(100 * r.utilisation, 0)} % |`,
    )
  }
  return lines.join('\n')
}

const USAGE =
  'usage: node bench/scheduling/simulate.ts [--seeds N] [--quick] [--only SCENARIO] [--write FILE] [--json]\n' +
  `scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}\n`

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      write: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseOptions>
  try {
    values = parseOptions(argv)
  } catch (err) {
    process.stderr.write(`simulate: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const seeds = values.seeds !== undefined ? Number(values.seeds) : values.quick ? 2 : 5
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds wants a positive integer`)
  const opts: { seeds: number; only?: string; log: (l: string) => void } = {
    seeds,
    log: (l) => process.stderr.write(`${l}\n`),
  }
  if (values.only !== undefined) opts.only = values.only
  const report = await runSimulation(opts)
  if (values.json) process.stdout.write(`${JSON.stringify(report.summaries, null, 2)}\n`)
  else process.stdout.write(`${report.markdown}\n`)
  if (values.write !== undefined) writeFileSync(values.write, `${report.markdown}\n`)
  return report.goalMet ? 0 : 1
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2))
