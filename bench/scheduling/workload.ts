/**
 * The simulated farm and its jobs, generated from a seed so every run is repeatable.
 *
 * - Members: core counts drawn from {2, 4, 8, 16, 32} (weights 15/25/30/20/10 %), speeds
 *   log-uniform in [0.5, 2] (a job of work W ms takes W ÷ speed ms there). The first `clients`
 *   members also submit builds; every member is a builder.
 * - Jobs: work log-normal with median 1 s and σ = 1.0 (of ln seconds), clipped to [50 ms, 60 s]:
 *   mean ≈ 1.6 s, 90th percentile ≈ 3.6 s, 99th ≈ 10 s, the longest of 2,000 ≈ 20–35 s. That is
 *   the shape of real C/C++ builds (most units compile in about a second, a heavy tail of
 *   template-heavy units takes tens of seconds). Jobs are dealt round-robin to the clients.
 * - History: when enabled, each job carries an estimate of its local run time, off by a
 *   log-normal error of σ = 0.25 (≈ ±25 %), as per-file history from earlier builds would give.
 * - Network: round trips 0.2–3 ms within the LAN; three members sit in another office at 20–30 ms.
 */
import { seededRandom } from '../../src/scheduler/random.ts'
import type { Random } from '../../src/scheduler/types.ts'

export interface SimMember {
  id: string
  index: number
  cores: number
  speed: number
  client: boolean
  /** Extra one-way latency of a distant member, ms. */
  remoteOfficeMs: number
}

export interface SimJob {
  id: number
  /** Index of the submitting client. */
  client: number
  /** Run time on a speed-1 machine, ms. */
  work: number
  /** Predicted run time on the client, ms, when history is on. */
  estimateMs?: number
}

export interface WorkloadOptions {
  seed: number
  members: number
  clients: number
  jobs: number
  medianMs: number
  sigma: number
  minMs: number
  maxMs: number
  history: boolean
  estimateNoise: number
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  seed: 1,
  members: 32,
  clients: 4,
  jobs: 2000,
  medianMs: 1000,
  sigma: 1.0,
  minMs: 50,
  maxMs: 60_000,
  history: true,
  estimateNoise: 0.25,
}

export interface Workload {
  options: WorkloadOptions
  members: SimMember[]
  jobs: SimJob[]
  /** Round-trip time between members `a` and `b`, ms (symmetric, fixed per pair). */
  rtt(a: number, b: number): number
}

const CORES = [2, 4, 8, 16, 32] as const
const CORE_WEIGHTS = [0.15, 0.25, 0.3, 0.2, 0.1] as const

export function makeWorkload(partial: Partial<WorkloadOptions> = {}): Workload {
  const options = { ...DEFAULT_WORKLOAD, ...partial }
  const rnd = seededRandom(options.seed)
  const members: SimMember[] = []
  for (let i = 0; i < options.members; i++) {
    members.push({
      id: `m${String(i).padStart(2, '0')}`,
      index: i,
      cores: pickWeighted(CORES, CORE_WEIGHTS, rnd),
      speed: 0.5 * 4 ** rnd(),
      client: i < options.clients,
      remoteOfficeMs: 0,
    })
  }
  // Three members (never clients) in another office.
  for (let k = 0; k < 3 && options.members - 1 - k >= options.clients; k++) {
    const m = members[options.members - 1 - k]!
    m.remoteOfficeMs = 10 + 5 * rnd()
  }
  const pair = new Map<string, number>()
  const rtt = (a: number, b: number): number => {
    const key = a < b ? `${a}:${b}` : `${b}:${a}`
    let v = pair.get(key)
    if (v === undefined) {
      v = 0.2 + 2.8 * rnd() + 2 * (members[a]!.remoteOfficeMs + members[b]!.remoteOfficeMs)
      pair.set(key, v)
    }
    return v
  }
  const jobs: SimJob[] = []
  for (let i = 0; i < options.jobs; i++) {
    const raw = options.medianMs * Math.exp(options.sigma * gaussian(rnd))
    const work = Math.min(options.maxMs, Math.max(options.minMs, raw))
    const client = i % options.clients
    const job: SimJob = { id: i, client, work }
    if (options.history) {
      const local = work / members[client]!.speed
      job.estimateMs = local * Math.exp(options.estimateNoise * gaussian(rnd))
    }
    jobs.push(job)
  }
  return { options, members, jobs, rtt }
}

/** The ideal makespan: all work spread perfectly, and the longest job on the fastest member. */
export function idealBound(w: Workload): {
  workBoundMs: number
  longestMs: number
  boundMs: number
} {
  const capacity = w.members.reduce((s, m) => s + m.cores * m.speed, 0)
  const total = w.jobs.reduce((s, j) => s + j.work, 0)
  const fastest = Math.max(...w.members.map((m) => m.speed))
  const longest = Math.max(...w.jobs.map((j) => j.work)) / fastest
  const workBoundMs = total / capacity
  return { workBoundMs, longestMs: longest, boundMs: Math.max(workBoundMs, longest) }
}

/** Standard normal (Box–Muller). */
export function gaussian(rnd: Random): number {
  const u = rnd() || Number.MIN_VALUE
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd())
}

function pickWeighted<T>(values: readonly T[], weights: readonly number[], rnd: Random): T {
  let x = rnd()
  for (let i = 0; i < values.length; i++) {
    x -= weights[i]!
    if (x < 0) return values[i]!
  }
  return values[values.length - 1]!
}
