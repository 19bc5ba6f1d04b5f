/**
 * Cache writes that run after their compile has been answered. A miss's reply goes back to the
 * waiting wrapper as soon as the compile is done and checked (its outputs are already on disk);
 * writing the entry and its manifest costs a few ms the build need not wait for (sccache writes
 * in the background too). This tracker keeps those writes findable until they settle:
 *
 * - by key (the result key, and the preprocessor key a lookup uses): a lookup of a key being
 *   stored waits for the write first, so an identical request arriving right after the reply
 *   still hits (`has` costs nothing otherwise; direct mode holds its coalescing slot instead);
 * - all together: `flush` is the barrier for anything that reports on the cache (stats, cache
 *   clear, doctor) and for a stopping daemon, which must not lose the entries it just compiled;
 * - their lifetime: the writes get this tracker's signal, never the request's (the wrapper
 *   disconnects once answered, which aborts the request); `close` aborts what is still running.
 *
 * @example
 * ```ts
 * const stores = new PendingStores()
 * stores.run([key], (signal) => store.putResult(key, result, { signal }).catch(logIt))
 * if (stores.has(key)) await stores.waitFor(key, { signal })
 * await stores.close({ signal: AbortSignal.timeout(10_000) })
 * ```
 */

export class PendingStores {
  readonly #all = new Set<Promise<void>>()
  readonly #byKey = new Map<string, Promise<void>>()
  readonly #lifetime = new AbortController()

  /** Writes under way now. */
  get size(): number {
    return this.#all.size
  }

  /**
   * Runs `work` in the background, findable by `keys` from now until it settles. It starts on
   * the next turn of the event loop: a small entry is compressed and written synchronously, and
   * that must come after the reply, which goes out in this turn. `work` reports its own failures
   * (a rejection is swallowed here); its signal aborts only on `close`.
   */
  run(keys: readonly string[], work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const signal = this.#lifetime.signal
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(signal))
      .then(
        () => {},
        () => {},
      )
    this.#all.add(done)
    for (const key of keys) this.#byKey.set(key, done)
    void done.then(() => {
      this.#all.delete(done)
      for (const key of keys) if (this.#byKey.get(key) === done) this.#byKey.delete(key)
    })
    return done
  }

  /** Whether a write of `key` is under way (checked before awaiting anything). */
  has(key: string): boolean {
    return this.#byKey.has(key)
  }

  /** Waits for the write of `key` under way, if any. Rejects when `signal` aborts. */
  async waitFor(key: string, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    const pending = this.#byKey.get(key)
    if (pending !== undefined) await untilAborted(pending, signal)
  }

  /**
   * Waits for every write started before this call (not for those started meanwhile: a busy
   * build must not hold a `meshcc stats` forever). Rejects when `signal` aborts.
   */
  async flush({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#all.size === 0) return
    await untilAborted(Promise.all([...this.#all]), signal)
  }

  /**
   * Flushes until `signal` aborts, then aborts the writes still running (the store's own `stop`
   * waits for a file write already past its signal check). Later writes start aborted.
   */
  async close({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.flush(signal === undefined ? {} : { signal })
    } catch {
      // Out of time: the rest is aborted.
    } finally {
      this.#lifetime.abort(new Error('cache writes stopped'))
    }
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  signal.throwIfAborted()
  const { promise: aborted, reject } = Promise.withResolvers<never>()
  const onAbort = () => reject(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener('abort', onAbort),
  )
}
