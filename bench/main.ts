/**
 * `npm run bench`: meshcc against ccache (Debian's package) and the plain compiler, in one run.
 * Installs what it needs, unpacks the pinned workload fresh, runs the suites, prints the tables and
 * writes bench/RESULTS.md. Every tool session has its own state directory, and everything the run
 * started or made (daemons, caches, build trees) is gone when it ends, interrupted or not; only the
 * download cache in bench/work/downloads stays.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { meshccReadiness } from './lib/meshcc-ready.ts'
import { reportMd } from './lib/report.ts'
import { ensurePackages, loadAverage, machineFacts, requiredPackages } from './lib/system.ts'
import { openCcache } from './lib/tools/ccache.ts'
import { openMeshcc } from './lib/tools/meshcc.ts'
import { openPlain } from './lib/tools/plain.ts'
import type { ToolName, ToolSession } from './lib/tools/types.ts'
import { fetchZstd, unpackZstd } from './lib/zstd-workload.ts'
import { suites } from './suites/index.ts'
import type { BenchContext, Suite, SuiteResult } from './suites/types.ts'

const usage = `usage: npm run bench -- [options]
  --quick          short run (fewer rounds, one repetition, smaller build); writes bench/work/RESULTS-quick.md
  --only IDS       comma-separated suite ids (see --list)
  --list           list the suites and exit
  --reps N         whole-build repetitions per tool (default 3, quick 1)
  --jobs N         make -jN (default 2)
  --output FILE    where to write the results (default bench/RESULTS.md, quick: bench/work/RESULTS-quick.md)
  --no-meshcc      leave meshcc out (dry run of the harness with ccache and gcc)
  --rebuild        run scripts/build.mjs before measuring even if bin/meshcc exists
  --keep           keep the unpacked source tree in bench/work/ after the run`

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      list: { type: 'boolean', default: false },
      reps: { type: 'string' },
      jobs: { type: 'string', default: '2' },
      output: { type: 'string' },
      'no-meshcc': { type: 'boolean', default: false },
      rebuild: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>
  try {
    parsed = parseOptions(argv)
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${usage}`)
    return 2
  }
  const { values } = parsed
  if (values.help) {
    console.log(usage)
    return 0
  }
  if (values.list) {
    for (const s of suites)
      console.log(
        `${s.id.padEnd(15)} issue ${s.issue}  ${s.title}${s.pending ? ` [pending: ${s.pending}]` : ''}`,
      )
    return 0
  }
  const reps = Number(values.reps ?? (values.quick ? 1 : 3))
  const jobs = Number(values.jobs)
  if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(jobs) || jobs < 1) {
    console.error(`bench: --reps and --jobs take a positive integer\n${usage}`)
    return 2
  }
  const bench = dirname(fileURLToPath(import.meta.url))
  const root = join(bench, '..')
  const work = join(bench, 'work')
  const scratch = join(work, 'run')
  const tree = join(work, 'zstd')
  const quick = values.quick
  const output =
    values.output ?? (quick ? join(work, 'RESULTS-quick.md') : join(bench, 'RESULTS.md'))
  const only = values.only?.split(',').map((s) => s.trim())
  const unknown = only?.filter((id) => !suites.some((s) => s.id === id)) ?? []
  if (unknown.length > 0) {
    console.error(`bench: unknown suite ${unknown.join(', ')} (see --list)`)
    return 2
  }
  const log = (line: string) =>
    console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)
  const controller = new AbortController()
  const signal = controller.signal
  const onSignal = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const open = new Set<ToolSession>()
  const started = Date.now()
  let serial = 0

  try {
    await rm(scratch, { recursive: true, force: true })
    await rm(tree, { recursive: true, force: true })
    await mkdir(scratch, { recursive: true })
    await ensurePackages(requiredPackages, { signal, log })
    const dsc = await fetchZstd(join(work, 'downloads'), { signal, log })
    await unpackZstd(dsc, tree, signal)
    const facts = await machineFacts()
    const meshcc = values['no-meshcc']
      ? { available: false, detail: 'not measured (--no-meshcc)' }
      : await meshccReadiness(root, scratch, { rebuild: values.rebuild, log, signal })
    log(`meshcc: ${meshcc.detail}`)
    const tools: ToolName[] = ['gcc', 'ccache', ...(meshcc.available ? (['meshcc'] as const) : [])]

    const ctx: BenchContext = {
      root,
      scratch,
      zstdTree: tree,
      quick,
      reps,
      jobs,
      tools,
      signal,
      log,
      async openTool(tool, opts = {}) {
        const dir = join(scratch, `${tool}-${++serial}`)
        const s =
          tool === 'gcc'
            ? openPlain()
            : tool === 'ccache'
              ? await openCcache({ dir, ...opts })
              : await openMeshcc({ root, dir, ...(opts.label ? { label: opts.label } : {}) })
        // Closing twice is harmless; the runner closes whatever a suite left open.
        const close = s.close.bind(s)
        const tracked: ToolSession = {
          ...s,
          close: async () => {
            open.delete(tracked)
            await close()
          },
        }
        open.add(tracked)
        return tracked
      },
    }

    const results: SuiteResult[] = []
    const skipped: { suite: Suite; reason: string }[] = []
    const failures: { suite: Suite; error: string }[] = []
    for (const suite of suites) {
      if (only && !only.includes(suite.id)) {
        skipped.push({ suite, reason: 'not selected in this run (--only)' })
        continue
      }
      if (suite.pending || !suite.run) {
        skipped.push({ suite, reason: `pending: ${suite.pending ?? 'no runner'}` })
        continue
      }
      log(`suite ${suite.id}: ${suite.title}`)
      try {
        results.push(await suite.run(ctx))
      } catch (err) {
        if (signal.aborted) throw err
        failures.push({ suite, error: (err as Error).message })
        log(`suite ${suite.id} failed: ${(err as Error).message}`)
      } finally {
        for (const s of [...open]) await s.close()
      }
    }

    const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
    const md = reportMd({
      facts,
      loadAtEnd: await loadAverage(),
      command,
      meshcc,
      results,
      skipped,
      failures,
      durationS: (Date.now() - started) / 1000,
    })
    console.log(md)
    await mkdir(dirname(output), { recursive: true })
    await writeFile(output, md)
    log(`wrote ${relative(process.cwd(), output)}`)
    const checksFailed = results.some((r) => r.checks.some((c) => !c.ok))
    // A run meant to measure meshcc that could not is a failure, not a ccache-only success.
    const meshccMissing = !meshcc.available && !values['no-meshcc']
    return failures.length > 0 || checksFailed || meshccMissing ? 1 : 0
  } catch (err) {
    console.error(`bench: ${signal.aborted ? 'interrupted' : (err as Error).message}`)
    return signal.aborted ? 130 : 1
  } finally {
    for (const s of [...open]) await s.close().catch(() => {})
    await rm(scratch, { recursive: true, force: true })
    if (!values.keep) await rm(tree, { recursive: true, force: true })
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
