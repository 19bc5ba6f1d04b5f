/**
 * Reusable buffers for preprocessed text. A C++ unit preprocesses to megabytes; a fresh Buffer
 * per job is memory outside the V8 heap, and V8 starts a full mark-compact whenever such memory
 * has grown enough since the last one: with 2–3 MB per job that was a full collection every job
 * or two, 10–20 ms of the daemon's CPU per job on a 28 MB heap. The text is dead once the job is
 * compressed, so its buffer goes back here and the next job reuses it.
 *
 * A lease must be given back only once nothing reads the text any more (`give`); a lease never
 * given back is simply collected. At most {@link MAX_POOLED} buffers of at most
 * {@link MAX_POOLED_BYTES} each are kept.
 */

/** Buffers kept for reuse (about the number of jobs a client prepares at once). */
export const MAX_POOLED = 4
/** Larger texts get a buffer of their own. */
export const MAX_POOLED_BYTES = 32 * 2 ** 20

const free: Buffer[] = []

/** A buffer of at least `size` bytes (its whole length may be larger: use a subarray). */
export function takeTextBuffer(size: number): Buffer {
  if (size > MAX_POOLED_BYTES) return Buffer.allocUnsafe(size)
  let best = -1
  for (let i = 0; i < free.length; i++) {
    const b = free[i]!
    if (b.length >= size && (best < 0 || b.length < free[best]!.length)) best = i
  }
  if (best >= 0) return free.splice(best, 1)[0]!
  // Round up, so that a slightly larger text next time still fits.
  return Buffer.allocUnsafeSlow(
    Math.min(MAX_POOLED_BYTES, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(size)))),
  )
}

/** Gives a buffer from {@link takeTextBuffer} back; nothing may read it afterwards. */
export function giveTextBuffer(buf: Buffer): void {
  if (buf.length > MAX_POOLED_BYTES || free.includes(buf)) return
  if (free.length >= MAX_POOLED) {
    // Keep the larger ones: small texts fit in them too.
    let smallest = 0
    for (let i = 1; i < free.length; i++) if (free[i]!.length < free[smallest]!.length) smallest = i
    if (free[smallest]!.length >= buf.length) return
    free.splice(smallest, 1)
  }
  free.push(buf)
}
