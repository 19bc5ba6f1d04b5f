/**
 * Per-job overhead of a remote compile: the same unit compiled on the client (plain compiler, the
 * baseline) and through every tool, which sends it to a builder. All commands run inside the
 * client namespace under `hyperfine -N` (no shell); rounds rotate the order of the tools, since
 * the machine is shared and drifting load should hit every tool alike, and all runs are pooled.
 *
 * - wall overhead = median wall (remote) − median wall (local), same unit, same run;
 * - client CPU per job = user + sys of the command's process tree (hyperfine: the client, the
 *   preprocessor it ran) + the CPU the tool's client-side daemon spent meanwhile ÷ jobs.
 *
 * Each invocation checks, from the builders' own logs or counters, that every job (warm-ups
 * included) was compiled on a builder; a tool that compiled anything on the client is reported
 * as such, not counted as remote.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { median, quantile, rotate } from '../lib/numbers.ts'
import { run } from '../lib/proc.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import type { FarmTool } from './farm-tool.ts'
import type { Farm } from './netns.ts'
import type { Unit } from './units.ts'

export interface PerJobRow {
  unit: string
  tool: string
  runs: number
  /** Wall seconds of every timed run. */
  times: number[]
  /** Mean user + sys seconds per run of the command's own process tree. */
  commandCpu: number
  /** Client-daemon CPU seconds per job (warm-ups included in the division). */
  daemonCpu: number
  /** Jobs compiled remotely ÷ jobs sent (1 for the local baseline by definition). */
  remoteJobs: number
  jobs: number
}

export interface PerJobOptions {
  farm: Farm
  tools: readonly FarmTool[]
  units: readonly Unit[]
  scratch: string
  rounds: number
  runs: number
  warmup: number
  signal?: AbortSignal
  log(s: string): void
}

function checkArgs(argv: readonly string[]): string {
  for (const a of argv) if (/[\s'"\\]/.test(a)) throw new Error(`cannot pass ${a} to hyperfine -N`)
  return argv.join(' ')
}

async function hyperfineInNs(
  farm: Farm,
  name: string,
  argv: readonly string[],
  o: {
    cwd: string
    env: NodeJS.ProcessEnv
    scratch: string
    runs: number
    warmup: number
    signal?: AbortSignal
  },
): Promise<{ times: number[]; cpu: number }> {
  const out = join(o.scratch, `hf-${process.pid}-${Date.now()}.json`)
  await run(
    farm.client.exec[0]!,
    [
      ...farm.client.exec.slice(1),
      'hyperfine',
      '-N',
      '--style',
      'none',
      '--warmup',
      String(o.warmup),
      '--runs',
      String(o.runs),
      '--export-json',
      out,
      '--command-name',
      name,
      checkArgs(argv),
    ],
    { cwd: o.cwd, env: o.env, ...(o.signal ? { signal: o.signal } : {}) },
  )
  const json = JSON.parse(await readFile(out, 'utf8')) as {
    results: { times: number[]; user: number; system: number }[]
  }
  await rm(out, { force: true })
  const r = json.results[0]!
  return { times: r.times, cpu: r.user + r.system }
}

export async function measurePerJob(o: PerJobOptions): Promise<PerJobRow[]> {
  const rows = new Map<string, PerJobRow>()
  const entrants: (FarmTool | undefined)[] = [undefined, ...o.tools] // undefined: local gcc
  for (const unit of o.units) {
    for (let round = 0; round < o.rounds; round++) {
      for (const tool of rotate(entrants, round)) {
        const label = tool ? tool.name : 'local'
        const key = `${unit.id}/${label}`
        const out = join(o.scratch, `pj-${label}-${unit.id}.o`)
        const argv = [...(tool?.prefix ?? []), ...unit.argv(out)]
        // Counters first: reading meshcc's asks its client daemon, which must not be billed.
        const rj0 = tool ? await tool.remoteJobs() : 0
        const cpu0 = tool ? await tool.clientDaemonCpu() : 0
        const r = await hyperfineInNs(o.farm, label, argv, {
          cwd: unit.cwd,
          env: tool?.env ?? cleanEnv(),
          scratch: o.scratch,
          runs: o.runs,
          warmup: o.warmup,
          ...(o.signal ? { signal: o.signal } : {}),
        })
        const jobs = o.runs + o.warmup
        const daemon = tool ? (await tool.clientDaemonCpu()) - cpu0 : 0
        const remote = tool ? (await tool.remoteJobs()) - rj0 : jobs
        const row = rows.get(key) ?? {
          unit: unit.id,
          tool: label,
          runs: 0,
          times: [],
          commandCpu: 0,
          daemonCpu: 0,
          remoteJobs: 0,
          jobs: 0,
        }
        // Running means: weight each invocation by its runs.
        row.commandCpu = (row.commandCpu * row.runs + r.cpu * o.runs) / (row.runs + o.runs)
        row.daemonCpu = (row.daemonCpu * row.jobs + daemon) / (row.jobs + jobs)
        row.runs += o.runs
        row.jobs += jobs
        row.remoteJobs += remote
        row.times.push(...r.times)
        rows.set(key, row)
      }
      o.log(`per-job ${unit.id}: round ${round + 1}/${o.rounds} done`)
    }
  }
  return [...rows.values()]
}

export function summarise(rows: readonly PerJobRow[]) {
  return rows.map((r) => {
    const local = rows.find((x) => x.unit === r.unit && x.tool === 'local')
    const wall = median(r.times)
    return {
      ...r,
      wall,
      p10: quantile(r.times, 0.1),
      p90: quantile(r.times, 0.9),
      overhead: local ? wall - median(local.times) : Number.NaN,
      clientCpu: r.commandCpu + r.daemonCpu,
    }
  })
}
