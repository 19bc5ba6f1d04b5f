/**
 * The distributed-compilation benchmark on its own:
 * `node bench/distributed/main.ts [--quick] [--no-meshcc] [--no-sccache] [--output FILE]` (as
 * root, the project's Node 24). Unpacks the same Debian workloads as `npm run bench`, runs the suite of
 * suite.ts and writes a Markdown fragment for bench/RESULTS.md (default
 * bench/distributed/RESULTS-fragment.md). Everything it starts or makes (namespaces, daemons,
 * trees) is gone when it ends, interrupted or not; only the download cache stays.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { tableMd } from '../lib/report.ts'
import { loadAverage, machineFacts } from '../lib/system.ts'
import { fetchZstd, unpackZstd } from '../lib/zstd-workload.ts'
import { stopAllDaemons } from './daemon-process.ts'
import { runDistributed } from './suite.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-meshcc': { type: 'boolean', default: false },
    'no-sccache': { type: 'boolean', default: false },
    output: { type: 'string' },
  },
})
const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const work = join(root, 'bench', 'work')
const scratch = join(work, 'run-distributed')
const output = values.output ?? join(here, 'RESULTS-fragment.md')
const log = (line: string) =>
  console.error(`[dist ${new Date().toISOString().slice(11, 19)}] ${line}`)
const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => controller.abort(new Error('interrupted')))

const started = Date.now()
let code = 0
try {
  await rm(scratch, { recursive: true, force: true })
  await mkdir(scratch, { recursive: true })
  const zstdTree = join(scratch, 'zstd')
  await unpackZstd(
    await fetchZstd(join(work, 'downloads'), { signal: controller.signal, log }),
    zstdTree,
    controller.signal,
  )
  const facts = await machineFacts()
  const r = await runDistributed({
    root,
    scratch,
    zstdTree,
    quick: values.quick,
    noMeshcc: values['no-meshcc'],
    noSccache: values['no-sccache'],
    signal: controller.signal,
    log,
  })
  const out: string[] = [`## ${r.title}`, '']
  out.push(
    `Measured ${facts.date} by \`node bench/distributed/main.ts${values.quick ? ' --quick' : ''}\` (${Math.round((Date.now() - started) / 1000)} s) on ${facts.nproc} cores (${facts.cpuModel}), ${facts.kernel}, ${facts.gcc}; load average at start ${facts.loadavg}, at end ${await loadAverage()}.`,
    '',
  )
  if (r.goals.length > 0) {
    out.push('### Goals', '')
    out.push(
      tableMd({
        title: 'goals',
        columns: ['metric', 'meshcc', 'goal', 'met', 'for comparison'],
        rows: r.goals.map((g) => [
          g.metric,
          g.value.toFixed(3),
          `≤ ${g.goal}`,
          g.value <= g.goal ? 'yes' : '**no**',
          g.anchor ?? '',
        ]),
      }),
      '',
    )
  }
  for (const t of r.tables) out.push(`### ${t.title}`, '', tableMd(t), '')
  out.push('Checks:', '')
  for (const c of r.checks) out.push(`- ${c.ok ? 'ok' : '**FAILED**'} — ${c.name}: ${c.detail}`)
  out.push('')
  for (const n of r.notes) out.push(`- ${n}`)
  out.push('')
  const md = out.join('\n')
  console.log(md)
  await writeFile(output, md)
  log(`wrote ${output}`)
  if (r.checks.some((c) => !c.ok)) code = 1
} catch (err) {
  console.error(
    `bench/distributed: ${controller.signal.aborted ? 'interrupted' : (err as Error).stack}`,
  )
  code = controller.signal.aborted ? 130 : 1
} finally {
  await stopAllDaemons()
  await rm(scratch, { recursive: true, force: true })
}
process.exit(code)
