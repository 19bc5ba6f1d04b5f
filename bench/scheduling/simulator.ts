/**
 * Discrete-event simulation of a build farm, driving the real placement code
 * (`src/scheduler/`: Placement and runWithPlacement) in virtual time.
 *
 * Every member has `cores` compile slots (a LocalPool; on clients the same pool their Placement
 * uses, so a client's own jobs and other clients' jobs compete for its cores). Every member
 * publishes an advert every `advertIntervalMs` (random phase); each client receives it after a
 * gossip delay drawn per delivery, and keeps only the latest. A reservation travels half a round
 * trip, is granted if the builder has a free slot at that moment (else "busy"), and the answer
 * travels back. A granted job is sent (half a round trip plus transfer), runs for work ÷ speed,
 * and its result travels back. Nothing sleeps for real; 2,000 jobs simulate in about a second.
 */
import { LocalPool } from '../../src/scheduler/local-pool.ts'
import type { CandidatePicker } from '../../src/scheduler/pickers.ts'
import { advertReserve } from '../../src/scheduler/advert-reserve.ts'
import { Placement, type PlacementInit } from '../../src/scheduler/placement.ts'
import { seededRandom } from '../../src/scheduler/random.ts'
import { runWithPlacement } from '../../src/scheduler/run-with-placement.ts'
import type {
  BuilderView,
  PlacementJob,
  ReserveFn,
  ReserveReply,
} from '../../src/scheduler/types.ts'
import { VirtualClock } from '../../src/scheduler/virtual-clock.ts'
import { idealBound, type SimJob, type Workload } from './workload.ts'

export interface SimOptions {
  /** Builds the picker of each client (each client gets its own instance). */
  picker?: () => CandidatePicker
  advertIntervalMs: number
  /** Gossip delivery delay, uniform in [min, max] ms per advert and receiver. */
  gossipDelayMs: readonly [number, number]
  /** One-way transfer time of a job's input (and of its result), ms. */
  transferMs: number
  /** Concurrent jobs each client's build runs (`make -jN`); default: all at once. */
  parallelism?: number
  /** Submit each client's jobs longest estimate first (needs history). Default true. */
  longestFirst?: boolean
  seed: number
  /** Time before the builds start, so that adverts have arrived. Default 5 s. */
  warmupMs: number
  /** Placement tuning passed through. */
  d?: number
  maxParallelProbes?: number
  /** Hedge stragglers (runWithPlacement's option). Default off. */
  hedge?: boolean
  /**
   * How a slot is reserved. `builder` (default): a reservation round trip to the builder before
   * sending, granted if a slot is free when it arrives. `daemon` (what the daemon does since
   * 2026-11-27, `src/remote/remote-reserve.ts`): the client's own accounting first (a member the
   * adverts and our jobs since show full is not asked), then the same round trip. `advert` (the
   * daemon before): the client reserves from the adverts and its own accounting, without a round
   * trip, and sends the job; a builder with no free slot when the job arrives answers BUSY and
   * the job goes to another member.
   */
  reservations?: 'advert' | 'builder' | 'daemon'
  /** Other placement settings, for experiments. */
  placement?: Partial<Omit<PlacementInit, 'clock' | 'reserve' | 'members' | 'localSlots'>>
}

export const DEFAULT_SIM: SimOptions = {
  advertIntervalMs: 2_000,
  gossipDelayMs: [20, 600],
  transferMs: 1,
  seed: 7,
  warmupMs: 5_000,
}

export interface SimResult {
  picker: string
  makespanMs: number
  boundMs: number
  workBoundMs: number
  longestMs: number
  /** makespan ÷ bound. */
  ratio: number
  remote: number
  local: number
  /** BUSY answers from builders (reservations refused, or jobs refused on arrival). */
  busy: number
  /** Reservations the clients refused themselves from their accounting (no message sent). */
  heldBack: number
  waited: number
  /** Busy slot-time ÷ (slots × makespan). */
  utilisation: number
  trace: JobTrace[]
  /** Virtual events processed and real milliseconds spent. */
  wallMs: number
}

export interface JobTrace {
  job: SimJob
  client: number
  submittedAt: number
  endAt: number
  /** Speed of the member that ran it. */
  speed: number
  where: 'local' | 'remote'
  /** Attempts, `where@member:outcome` each (BUSY answers, failures, hedges…). */
  attempts: string[]
}

interface Lease {
  builder: number
  used: boolean
  released: boolean
}

const LEASE_MS = 2_000

export async function simulate(w: Workload, partial: Partial<SimOptions> = {}): Promise<SimResult> {
  const o: SimOptions = { ...DEFAULT_SIM, ...partial }
  const started = performance.now()
  const clock = new VirtualClock()
  const rnd = seededRandom(o.seed)
  const pools = w.members.map((m) => new LocalPool(m.cores))
  let busySlotMs = 0
  const clients = w.members.filter((m) => m.client)
  const views = clients.map(() => new Map<string, BuilderView>())
  const protocol = o.reservations ?? 'builder'
  let busyAnswers = 0
  const placements: Placement[] = []
  clients.forEach((c, ci) => {
    const members = () => [...views[ci]!.values()]
    const init: ConstructorParameters<typeof Placement>[0] = {
      clock,
      random: seededRandom(o.seed * 1000 + ci),
      localSlots: pools[c.index]!,
      selfSpeed: c.speed,
      members,
      reserve: reserveFor(protocol, ci, c.index),
    }
    if (o.picker !== undefined) init.picker = o.picker()
    if (o.d !== undefined) init.d = o.d
    if (o.maxParallelProbes !== undefined) init.maxParallelProbes = o.maxParallelProbes
    if (o.placement !== undefined) Object.assign(init, o.placement)
    placements.push(new Placement(init))
  })

  function reserveFor(p: 'advert' | 'builder' | 'daemon', ci: number, client: number): ReserveFn {
    const own = advertReserve(() => placements[ci])
    const ask: ReserveFn = async (peer) => reserve(client, Number(peer.slice(1)))
    if (p === 'advert') return own
    if (p === 'builder') return ask
    return async (peer, request, options) => {
      const mine = await own(peer, request, options)
      return mine.granted ? ask(peer, request, options) : mine
    }
  }

  const releaseSlot = (lease: Lease) => {
    if (lease.released) return
    lease.released = true
    pools[lease.builder]!.release()
  }

  const reserve = (client: number, builder: number): Promise<ReserveReply> => {
    const half = w.rtt(client, builder) / 2
    return new Promise((resolve) => {
      clock.schedule(half, () => {
        let reply: ReserveReply = { granted: false, reason: 'busy' }
        busyAnswers++
        if (pools[builder]!.tryAcquire()) {
          busyAnswers--
          const lease: Lease = { builder, used: false, released: false }
          // A grant nobody uses is given back when its lease runs out.
          clock.schedule(LEASE_MS, () => {
            if (!lease.used) releaseSlot(lease)
          })
          reply = { granted: true, lease }
        }
        clock.schedule(half, () => resolve(reply))
      })
    })
  }

  // Adverts: periodic, random phase, delivered with gossip delay to every client but the author.
  let running = true
  const seq = new Map<string, number>()
  for (const m of w.members) {
    const publish = () => {
      if (!running) return
      const pool = pools[m.index]!
      const fields = {
        peerId: m.id,
        platform: 'linux',
        arch: 'x64',
        cores: m.cores,
        freeSlots: pool.free,
        load: pool.used / m.cores,
        queuedJobs: 0,
        speed: m.speed,
        toolchains: ['tc'],
        version: '0.1.0',
        admitted: true,
        builder: true,
      }
      const s = (seq.get(m.id) ?? 0) + 1
      seq.set(m.id, s)
      clients.forEach((c, ci) => {
        if (c.index === m.index) return
        const [lo, hi] = o.gossipDelayMs
        clock.schedule(lo + (hi - lo) * rnd(), () => {
          const view = views[ci]!
          const prev = view.get(m.id) as (BuilderView & { seq?: number }) | undefined
          if (prev !== undefined && (prev.seq ?? 0) > s) return
          const v: BuilderView & { seq: number } = {
            ...fields,
            advertAt: clock.now(),
            rttMs: w.rtt(c.index, m.index),
            seq: s,
          }
          view.set(m.id, v)
          placements[ci]!.viewChanged()
        })
      })
      clock.schedule(o.advertIntervalMs, publish)
    }
    clock.schedule(o.advertIntervalMs * rnd(), publish)
  }

  // Builds start once every client has heard from every member (a running mesh).
  const startAt = o.warmupMs
  const completion: number[] = []
  const trace: JobTrace[] = []
  const runJob = async (ci: number, job: SimJob) => {
    const c = clients[ci]!
    const pj: PlacementJob = { toolchain: 'tc', platform: 'linux', arch: 'x64' }
    if (job.estimateMs !== undefined) pj.estimateMs = job.estimateMs
    const t0 = clock.now()
    const report = await runWithPlacement(pj, {
      placement: placements[ci]!,
      hedge: o.hedge ?? false,
      local: async (_job, { signal }) => {
        const d = job.work / c.speed
        const t = clock.now()
        try {
          await clock.sleep(d, { signal })
        } finally {
          busySlotMs += clock.now() - t
        }
      },
      remote: async (slot, _job, { signal }) => {
        const b = w.members[Number(slot.peer.slice(1))]!
        const half = w.rtt(c.index, b.index) / 2
        let lease = slot.lease as Lease | undefined
        const reserved = lease !== undefined
        if (lease === undefined) {
          // Reserved from the adverts: the job travels, and the builder admits it only if a
          // slot is free when it arrives; else it answers BUSY at once.
          await clock.sleep(half + o.transferMs, { signal })
          if (!pools[b.index]!.tryAcquire()) {
            busyAnswers++
            await clock.sleep(half, { signal })
            return { kind: 'busy' }
          }
          lease = { builder: b.index, used: true, released: false }
        } else {
          lease.used = true
        }
        try {
          if (reserved) await clock.sleep(half + o.transferMs, { signal })
          const d = job.work / b.speed
          const t = clock.now()
          try {
            await clock.sleep(d, { signal })
          } finally {
            busySlotMs += clock.now() - t
          }
        } finally {
          // Done or cancelled (a hedge won): the builder's slot is free again.
          releaseSlot(lease!)
        }
        await clock.sleep(half + o.transferMs, { signal })
        return { kind: 'compiled', result: undefined }
      },
    })
    completion.push(clock.now())
    const builder = report.peer === undefined ? c : w.members[Number(report.peer.slice(1))]!
    trace.push({
      job,
      client: ci,
      submittedAt: t0 - startAt,
      endAt: clock.now() - startAt,
      speed: builder.speed,
      where: report.where,
      attempts: report.attempts.map(
        (a) =>
          `${a.where}${a.peer ?? ''}:${a.outcome}@${Math.round(clock.now() - startAt - a.elapsedMs)}`,
      ),
    })
  }

  const builds = clients.map(async (_c, ci) => {
    await clock.sleep(startAt)
    const mine = w.jobs.filter((j) => j.client === ci)
    if (o.longestFirst !== false && mine.every((j) => j.estimateMs !== undefined)) {
      mine.sort((a, b) => b.estimateMs! - a.estimateMs!)
    }
    const lanes = Math.min(o.parallelism ?? mine.length, mine.length)
    let next = 0
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < mine.length) await runJob(ci, mine[next++]!)
      }),
    )
  })
  const all = Promise.all(builds).then(() => {
    running = false
  })
  await clock.run()
  await all

  const makespanMs = Math.max(...completion) - startAt
  const bound = idealBound(w)
  const slots = w.members.reduce((s, m) => s + m.cores, 0)
  const sum = (f: (p: Placement) => number) => placements.reduce((s, p) => s + f(p), 0)
  return {
    picker: placements[0]!.pickerName,
    makespanMs,
    ...bound,
    ratio: makespanMs / bound.boundMs,
    remote: sum((p) => p.counters.remote),
    local: sum((p) => p.counters.local),
    busy: busyAnswers,
    heldBack: sum((p) => p.counters.heldBack),
    waited: sum((p) => p.counters.waited),
    utilisation: busySlotMs / (slots * makespanMs),
    wallMs: performance.now() - started,
    trace,
  }
}
