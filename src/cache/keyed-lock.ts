/**
 * Serializes async work per key inside one process: the second `run(key, fn)` starts when the
 * first has settled. Used for the read-modify-write of direct-mode manifests.
 *
 * @example
 * ```ts
 * await locks.run(key, async () => put(key, update(get(key))))
 * ```
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve()
    const run = prev.then(fn)
    const tail = run.catch(() => {})
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return run
  }

  /** Keys with work queued or running (for tests and leak checks). */
  get size(): number {
    return this.#tails.size
  }
}
