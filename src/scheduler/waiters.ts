/**
 * Jobs waiting for a slot, longest estimate first (then first come, first served): when slots
 * are scarce, starting the long compiles early shortens the build's tail.
 */
import type { PlacementJob, Slot } from './types.ts'

export interface WaiterInit {
  job: PlacementJob
  /** May take a local slot (in `remote` mode only once no member can take the job). */
  allowLocal: boolean
  allowRemote: boolean
  exclude: ReadonlySet<string>
  signal: AbortSignal | undefined
  /** When it started waiting. */
  since: number
  resolve(slot: Slot): void
  reject(err: unknown): void
}

export interface Waiter extends WaiterInit {
  readonly seq: number
  /** A reservation round is under way for it: local slots pass it by meanwhile. */
  probing: boolean
  settled: boolean
  cleanup: (() => void) | undefined
}

export class Waiters {
  #list: Waiter[] = []
  #seq = 0

  get size(): number {
    return this.#list.length
  }

  /** A place in the queue, for a job that may wait later ({@link add}'s `seq`). */
  ticket(): number {
    return this.#seq++
  }

  /** Queues a waiter; `seq` keeps a place taken earlier with {@link ticket}. */
  add(init: WaiterInit, seq: number = this.#seq++): Waiter {
    const w: Waiter = {
      ...init,
      seq,
      probing: false,
      settled: false,
      cleanup: undefined,
    }
    // Insert after every waiter that goes first (binary search on the order).
    let lo = 0
    let hi = this.#list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(this.#list[mid]!, w)) lo = mid + 1
      else hi = mid
    }
    this.#list.splice(lo, 0, w)
    return w
  }

  remove(w: Waiter): void {
    const i = this.#list.indexOf(w)
    if (i >= 0) this.#list.splice(i, 1)
  }

  /** A snapshot in serving order (safe to modify the queue while iterating). */
  all(): Waiter[] {
    return [...this.#list]
  }

  hasRemote(): boolean {
    return this.#list.some((w) => w.allowRemote)
  }
}

function before(a: Waiter, b: Waiter): boolean {
  const ea = a.job.estimateMs ?? 0
  const eb = b.job.estimateMs ?? 0
  return ea !== eb ? ea > eb : a.seq < b.seq
}

/** `a` should get a slot before `b`: its estimate is longer. */
export function longer(a: PlacementJob, b: PlacementJob): boolean {
  return (a.estimateMs ?? 0) > (b.estimateMs ?? 0)
}
