/**
 * Coalescing of identical concurrent misses. When several requests with the same key miss at
 * the same time (`make -j` running one compile twice, a build tree compiled from two directories
 * that share keys, a burst of wrappers starting together), the first leads: it compiles and
 * stores. The others follow: they wait until the leader is done (its entry written, which is
 * after its own reply: pending-stores.ts), then look the key up again, which verifies their own
 * inputs (a direct-mode manifest entry only matches when every header still has the hash the
 * leader's compile read) and replays the stored result for their own outputs and dependency
 * targets.
 *
 * A follower never waits forever: the leader releases its slot however it ends (stored, not
 * stored, compile error, meshcc trouble, aborted), the wait gives up after `maxWaitMs`, and
 * the follower's own abort signal ends it. A follower that then finds nothing compiles itself,
 * without leading or waiting again: after a compile error every follower compiles and reports
 * its own exact output (an error is never stored, and the follower's headers may differ from
 * the leader's, for instance in another checkout with the same direct key).
 *
 * @example
 * ```ts
 * const slot = coalescer.enter(key)
 * if (slot.lead) try { await compile() } finally { slot.release() }
 * else { await coalescer.wait(slot, { signal }); lookUpAgain() }
 * ```
 */

/** Default bound on a follower's wait: compiles longer than this are compiled twice. */
export const COALESCE_MAX_WAIT_MS = 120_000

export type CoalesceSlot =
  | { lead: true; release: () => void }
  | { lead: false; done: Promise<void> }

export class MissCoalescer {
  readonly #inFlight = new Map<string, Promise<void>>()
  readonly #maxWaitMs: number

  constructor(maxWaitMs = COALESCE_MAX_WAIT_MS) {
    this.#maxWaitMs = maxWaitMs
  }

  /** Keys being compiled now (for tests and diagnostics). */
  get size(): number {
    return this.#inFlight.size
  }

  /** Leads the key if nobody does, else joins the request that does. */
  enter(key: string): CoalesceSlot {
    const current = this.#inFlight.get(key)
    if (current !== undefined) return { lead: false, done: current }
    const { promise, resolve } = Promise.withResolvers<void>()
    this.#inFlight.set(key, promise)
    let released = false
    return {
      lead: true,
      release: () => {
        if (released) return
        released = true
        if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key)
        resolve()
      },
    }
  }

  /**
   * Waits for the leader to finish, at most `maxWaitMs`. Rejects with the signal's reason when
   * the follower's own request is aborted.
   */
  async wait(
    slot: { done: Promise<void> },
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<'done' | 'timeout'> {
    signal?.throwIfAborted()
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([
        slot.done.then(() => 'done' as const),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), this.#maxWaitMs)
          timer.unref()
        }),
        new Promise<never>((_resolve, reject) => {
          if (signal === undefined) return
          onAbort = () => reject(signal.reason)
          signal.addEventListener('abort', onAbort, { once: true })
        }),
      ])
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }
}
