/**
 * This machine's compile slots (default: one per core). Own jobs take them first; the builder
 * side may take them for remote jobs too (`tryAcquire`), so one pool governs all the work this
 * machine does. When a slot frees, `onFree` lets the placement hand it to a waiting job before
 * anything else can take it.
 */
export class LocalPool {
  readonly size: number
  #used = 0
  /** Called after each release while a slot is free; may take it synchronously. */
  onFree: (() => void) | undefined

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad local slot count ${size}`)
    this.size = size
  }

  get used(): number {
    return this.#used
  }

  get free(): number {
    return this.size - this.#used
  }

  tryAcquire(): boolean {
    if (this.#used >= this.size) return false
    this.#used++
    return true
  }

  release(): void {
    if (this.#used <= 0) throw new Error('local slot released twice')
    this.#used--
    this.onFree?.()
  }
}
