/** Markdown for the console and bench/RESULTS.md: machine facts, goals, then every suite. */
import type { Suite, SuiteResult, Table } from '../suites/types.ts'
import type { MachineFacts } from './system.ts'
import { ratio } from './numbers.ts'

export interface Report {
  facts: MachineFacts
  command: string
  meshcc: { available: boolean; detail: string }
  results: SuiteResult[]
  skipped: { suite: Suite; reason: string }[]
  failures: { suite: Suite; error: string }[]
  durationS: number
  loadAtEnd: string
}

export function tableMd(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  const lines = [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
  ]
  for (const r of t.rows) lines.push(`| ${r.map(esc).join(' | ')} |`)
  return lines.join('\n')
}

export function reportMd(r: Report): string {
  const f = r.facts
  const out: string[] = ['# meshcc benchmark results', '']
  out.push(
    `Measured ${f.date} by \`${r.command}\` (${Math.round(r.durationS)} s). Regenerate with \`npm run bench\`;`,
  )
  out.push('ratios are from this one run and mean more than the absolute times.', '')
  out.push('## Machine', '')
  out.push(
    tableMd({
      title: 'machine',
      columns: ['fact', 'value'],
      rows: [
        ['nproc', String(f.nproc)],
        ['CPU', f.cpuModel],
        ['memory', `${f.memGiB} GiB`],
        ['kernel', f.kernel],
        ['OS', f.os],
        ['gcc', f.gcc],
        ['ccache', f.ccache],
        ['hyperfine', f.hyperfine],
        ['node', f.node],
        ['load average (1, 5, 15 min) at start', f.loadavg],
        ['load average at end', r.loadAtEnd],
        ['meshcc', r.meshcc.detail],
      ],
    }),
    '',
  )
  const goals = r.results.flatMap((s) => s.goals)
  if (goals.length > 0) {
    out.push('## Goals', '')
    out.push(
      tableMd({
        title: 'goals',
        columns: ['metric', 'meshcc', 'goal', 'met', 'for comparison'],
        rows: goals.map((g) => [
          g.metric,
          ratio(g.value),
          `≤ ${g.goal}`,
          g.value <= g.goal ? 'yes' : '**no**',
          g.anchor ?? '',
        ]),
      }),
      '',
    )
  }
  for (const s of r.results) {
    out.push(`## ${s.title}`, '')
    for (const t of s.tables) out.push(`### ${t.title}`, '', tableMd(t), '')
    if (s.checks.length > 0) {
      out.push('Checks:', '')
      for (const c of s.checks) out.push(`- ${c.ok ? 'ok' : '**FAILED**'} — ${c.name}: ${c.detail}`)
      out.push('')
    }
    for (const n of s.notes) out.push(`- ${n}`)
    out.push('')
  }
  for (const { suite, error } of r.failures) {
    out.push(`## ${suite.title}`, '', `**Failed:** ${error.split('\n').join(' ')}`, '')
  }
  if (r.skipped.length > 0) {
    out.push('## Not measured in this run', '')
    for (const { suite, reason } of r.skipped)
      out.push(`- \`${suite.id}\` (issue ${suite.issue}): ${suite.title} — ${reason}`)
    out.push('')
  }
  return out.join('\n')
}
