/**
 * A clock whose time moves only when told: a discrete-event loop for tests and the scheduling
 * simulation. Timers and scheduled events run in time order; after each instant the loop lets
 * every promise chain settle (one macrotask turn) before moving on, so async code driven by this
 * clock behaves as it would in real time, without any real waiting.
 */
import type { Clock } from './types.ts'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

export class VirtualClock implements Clock {
  #now: number
  #seq = 0
  readonly #heap: Timer[] = []

  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  /** Events still scheduled. */
  get pending(): number {
    return this.#heap.length
  }

  sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#cancel(t)
        reject(signal?.reason)
      }
      const t = this.#push(this.#now + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Runs `fn` at `now() + delayMs`. */
  schedule(delayMs: number, fn: () => void): void {
    this.#push(this.#now + Math.max(0, delayMs), fn)
  }

  /** Runs events until none is left (or the next is after `until`), settling promises between. */
  async run(options: { until?: number; maxEvents?: number } = {}): Promise<void> {
    const until = options.until ?? Number.POSITIVE_INFINITY
    let budget = options.maxEvents ?? Number.POSITIVE_INFINITY
    await settle()
    for (;;) {
      const next = this.#heap[0]
      if (next === undefined || next.at > until) break
      this.#now = next.at
      // Everything due at this instant, then let the promise chains it woke run.
      while (this.#heap[0] !== undefined && this.#heap[0].at === this.#now) {
        if (budget-- <= 0) throw new Error('virtual clock: event budget exhausted')
        this.#pop().fn()
      }
      await settle()
    }
    if (until !== Number.POSITIVE_INFINITY && until > this.#now) this.#now = until
  }

  /** Moves time forward by `ms`, running what falls due. */
  advance(ms: number): Promise<void> {
    return this.run({ until: this.#now + ms })
  }

  #push(at: number, fn: () => void): Timer {
    const t: Timer = { at, seq: this.#seq++, fn }
    const h = this.#heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
    return t
  }

  #pop(): Timer {
    const h = this.#heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }

  #cancel(t: Timer): void {
    // Cancelled timers are rare (aborts): neutralise in place rather than re-heapify.
    t.fn = () => {}
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.at !== b.at ? a.at < b.at : a.seq < b.seq
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
