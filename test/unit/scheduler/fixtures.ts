/** Shared fakes for the scheduler tests: member views and a scriptable reservation function. */
import type { BuilderView, PlacementJob, ReserveReply } from '../../../src/scheduler/types.ts'
import type { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'

export const JOB: PlacementJob = { toolchain: 'tc1', platform: 'linux', arch: 'x64' }

export function view(peerId: string, over: Partial<BuilderView> = {}): BuilderView {
  return {
    peerId,
    platform: 'linux',
    arch: 'x64',
    cores: 8,
    freeSlots: 8,
    load: 0,
    queuedJobs: 0,
    speed: 1,
    toolchains: ['tc1'],
    version: '0.1.0',
    advertAt: 0,
    rttMs: 1,
    admitted: true,
    builder: true,
    ...over,
  }
}

/** Builders with a slot count each; reservations take `latencyMs` of virtual time. */
export class FakeBuilders {
  readonly free = new Map<string, number>()
  readonly asked: string[] = []
  readonly failing = new Set<string>()
  readonly silent = new Set<string>()
  /** Per-member reservation latency overriding `latencyMs`. */
  readonly latency = new Map<string, number>()

  readonly clock: VirtualClock
  readonly latencyMs: number

  constructor(clock: VirtualClock, slots: Record<string, number>, latencyMs = 1) {
    this.clock = clock
    this.latencyMs = latencyMs
    for (const [p, n] of Object.entries(slots)) this.free.set(p, n)
  }

  reserve = async (peer: string): Promise<ReserveReply> => {
    this.asked.push(peer)
    if (this.silent.has(peer)) return new Promise(() => {})
    await this.clock.sleep(this.latency.get(peer) ?? this.latencyMs)
    if (this.failing.has(peer)) throw new Error(`cannot reach ${peer}`)
    const n = this.free.get(peer) ?? 0
    if (n <= 0) return { granted: false, reason: 'busy' }
    this.free.set(peer, n - 1)
    return { granted: true, lease: { peer } }
  }

  /** A job finished there. */
  release(peer: string): void {
    this.free.set(peer, (this.free.get(peer) ?? 0) + 1)
  }
}
