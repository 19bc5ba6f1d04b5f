/**
 * Exact-length reads over an async stream of buffers (a decompressed archive), counting every
 * byte so callers can enforce a total bound (decompression bombs stop at the limit).
 */
export class ByteReader {
  #it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  #buf: Buffer = Buffer.alloc(0)
  #done = false
  consumed = 0

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#it =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]()
  }

  async #fill(n: number): Promise<void> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next()
      if (r.done) this.#done = true
      else
        this.#buf =
          this.#buf.length === 0 ? Buffer.from(r.value) : Buffer.concat([this.#buf, r.value])
    }
  }

  /** Up to `n` bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n)
    const out = this.#buf.subarray(0, n)
    this.#buf = this.#buf.subarray(out.length)
    this.consumed += out.length
    return out
  }

  /** Yields exactly `n` bytes in pieces; throws if the stream ends first. */
  async *pieces(n: number, max = 1024 * 1024): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (this.#buf.length === 0) await this.#fill(1)
      if (this.#buf.length === 0) throw new Error('archive truncated')
      const take = Math.min(left, max, this.#buf.length)
      const out = this.#buf.subarray(0, take)
      this.#buf = this.#buf.subarray(take)
      this.consumed += take
      left -= take
      yield out
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.pieces(n)) {
      // discard
    }
  }

  async close(): Promise<void> {
    await this.#it.return?.()
  }
}
