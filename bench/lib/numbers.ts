/** Small statistics and number formatting for the tables. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Quantile by linear interpolation, q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo)
}

export function ms(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  const v = seconds * 1000
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)
}

export function secs(seconds: number): string {
  return Number.isFinite(seconds) ? seconds.toFixed(2) : '–'
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '–'
}

/** Rotates a list by `n` places: alternates which command goes first in each round. */
export function rotate<T>(xs: readonly T[], n: number): T[] {
  if (xs.length === 0) return []
  const k = n % xs.length
  return [...xs.slice(k), ...xs.slice(0, k)]
}
