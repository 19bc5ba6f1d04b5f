/**
 * The scheduling simulation as a suite of `npm run bench` (issue 5). It needs nothing installed
 * and no workload tree; it runs in about a minute (`--quick`: two farms instead of five).
 *
 * To enable: add `schedulingSuite` to the list in `bench/suites/index.ts`.
 */
import type { Suite, SuiteResult, Table } from '../suites/types.ts'
import { SCENARIOS } from './scenarios.ts'
import { runSimulation } from './simulate.ts'

export const schedulingSuite: Suite = {
  id: 'scheduling',
  title: 'Scheduling simulation: 32 members, 2,000 jobs, makespan against the ideal bound',
  issue: 5,
  async run(ctx): Promise<SuiteResult> {
    const report = await runSimulation({ seeds: ctx.quick ? 2 : 5, log: ctx.log })
    const tables: Table[] = []
    for (const sc of SCENARIOS) {
      const rows = report.summaries.filter((s) => s.scenario === sc.id)
      if (rows.length === 0) continue
      tables.push({
        title: `${sc.id}: ${sc.title}`,
        columns: [
          'picker',
          'makespan ÷ bound (median)',
          'worst',
          'farms within 10 %',
          'mean makespan s',
          'mean bound s',
          'busy answers / job',
          'run locally %',
          'slot utilisation %',
        ],
        rows: rows.map((r) => [
          r.picker,
          r.medianRatio.toFixed(3),
          r.worstRatio.toFixed(3),
          `${r.within10}/${r.runs}`,
          (r.meanMakespanMs / 1000).toFixed(1),
          (r.meanBoundMs / 1000).toFixed(1),
          r.busyPerJob.toFixed(1),
          (100 * r.localShare).toFixed(0),
          (100 * r.utilisation).toFixed(0),
        ]),
      })
    }
    const history = report.summaries.filter((s) => s.scenario === 'history')
    const p2 = history.find((s) => s.picker === 'power-of-2')
    const others = history
      .filter((s) => s.picker !== 'power-of-2')
      .map((s) => `${s.picker} ${s.medianRatio.toFixed(3)}`)
      .join(', ')
    return {
      id: 'scheduling',
      title: schedulingSuite.title,
      tables,
      goals:
        p2 === undefined
          ? []
          : [
              {
                metric: 'makespan ÷ ideal bound, power-of-2, median over farms (history)',
                value: p2.medianRatio,
                goal: 1.1,
                anchor: others,
              },
            ],
      checks: [
        {
          name: 'no simulated makespan beats the ideal bound',
          ok: report.summaries.every((s) => s.ratios[0]! >= 1),
          detail: 'a makespan below the bound would mean the simulator lost work',
        },
      ],
      notes: [report.markdown.split('\n\n')[0]!.replaceAll('\n', ' ')],
    }
  },
}
