/**
 * The scheduling simulation's scenarios and the pickers compared, and a runner that repeats each
 * scenario over several generated farms (workload seeds) and summarises the makespans against the
 * ideal bound.
 */
import type { CandidatePicker } from '../../src/scheduler/pickers.ts'
import { leastLoadedPicker, randomPicker, roundRobinPicker } from './baselines.ts'
import { type SimOptions, type SimResult, simulate } from './simulator.ts'
import { makeWorkload, type WorkloadOptions } from './workload.ts'

export interface Scenario {
  id: string
  title: string
  workload: Partial<WorkloadOptions>
  sim: Partial<SimOptions>
  /** The goal applies (median makespan ÷ bound ≤ 1.10 for power-of-2). */
  goal: boolean
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'history',
    title: '32 members, 4 clients, 2,000 jobs, per-file history (estimates ±25 %)',
    workload: {},
    sim: {},
    goal: true,
  },
  {
    id: 'first-build',
    title: 'same farm and jobs, first build: no estimates, jobs in make order',
    workload: { history: false },
    sim: {},
    goal: false,
  },
  {
    id: 'herding',
    title: '32 members, 16 clients, 2,000 short jobs of similar length (σ 0.3), gossip 0.2–1.5 s',
    workload: { clients: 16, sigma: 0.3 },
    sim: { gossipDelayMs: [200, 1_500] },
    goal: false,
  },
]

export const PICKERS: readonly {
  name: string
  make?: () => CandidatePicker
  hedge?: boolean
  reservations?: 'advert' | 'builder' | 'daemon'
}[] = [
  { name: 'power-of-2' },
  { name: 'power-of-2 + hedging', hedge: true },
  {
    name: 'power-of-2, daemon protocol (own accounting, then reservation)',
    reservations: 'daemon',
  },
  { name: 'same + hedging', reservations: 'daemon', hedge: true },
  {
    name: 'power-of-2, no reservation round trip (daemon before 2026-11-27)',
    reservations: 'advert',
  },
  { name: 'least-loaded', make: leastLoadedPicker },
  { name: 'random', make: randomPicker },
  { name: 'round-robin', make: roundRobinPicker },
]

export interface Summary {
  scenario: string
  picker: string
  runs: number
  /** makespan ÷ bound over the farms, sorted. */
  ratios: number[]
  medianRatio: number
  worstRatio: number
  /** Farms where the makespan was within 10 % of the bound. */
  within10: number
  meanMakespanMs: number
  meanBoundMs: number
  /** Busy answers per job. */
  busyPerJob: number
  /** Share of jobs run on the client itself. */
  localShare: number
  utilisation: number
  /** Farms whose bound is the longest job rather than total work ÷ capacity. */
  longestBound: number
  /** Total work ÷ capacity as a share of the bound, lowest and highest over the farms. */
  workShare: [number, number]
  wallMs: number
}

export async function runScenario(
  scenario: Scenario,
  seeds: readonly number[],
  onRun?: (picker: string, seed: number, r: SimResult) => void,
): Promise<Summary[]> {
  const out: Summary[] = []
  for (const p of PICKERS) {
    const results: SimResult[] = []
    for (const seed of seeds) {
      const w = makeWorkload({ ...scenario.workload, seed })
      const opts: Partial<SimOptions> = { ...scenario.sim, seed }
      if (p.make !== undefined) opts.picker = p.make
      if (p.hedge === true) opts.hedge = true
      if (p.reservations !== undefined) opts.reservations = p.reservations
      const r = await simulate(w, opts)
      onRun?.(p.name, seed, r)
      results.push(r)
    }
    const ratios = results.map((r) => r.ratio).sort((a, b) => a - b)
    const mean = (f: (r: SimResult) => number) =>
      results.reduce((s, r) => s + f(r), 0) / results.length
    out.push({
      scenario: scenario.id,
      picker: p.name,
      runs: results.length,
      ratios,
      medianRatio: median(ratios),
      worstRatio: ratios[ratios.length - 1]!,
      within10: ratios.filter((x) => x <= 1.1).length,
      meanMakespanMs: mean((r) => r.makespanMs),
      meanBoundMs: mean((r) => r.boundMs),
      busyPerJob: mean((r) => r.busy / (r.local + r.remote)),
      localShare: mean((r) => r.local / (r.local + r.remote)),
      utilisation: mean((r) => r.utilisation),
      longestBound: results.filter((r) => r.longestMs >= r.workBoundMs).length,
      workShare: [
        Math.min(...results.map((r) => r.workBoundMs / r.boundMs)),
        Math.max(...results.map((r) => r.workBoundMs / r.boundMs)),
      ],
      wallMs: results.reduce((s, r) => s + r.wallMs, 0),
    })
  }
  return out
}

function median(sorted: readonly number[]): number {
  const n = sorted.length
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
}
