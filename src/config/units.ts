/**
 * Parsing and printing of sizes and durations, as written in MESHCC_* variables, config.toml and
 * `meshcc stats`.
 *
 * Sizes follow ccache: `k`, `M`, `G`, `T` are powers of 1000 and `Ki`, `Mi`, `Gi`, `Ti` powers
 * of 1024; a trailing `B` is allowed (`5G`, `5GB`, `1.5GiB`, `500M`, `1048576`).
 * Durations: a number of seconds, or with a unit `ms`, `s`, `m`, `h`, `d` (`90s`, `30m`, `1.5h`).
 *
 * @example
 * ```ts
 * parseSize('1.5GiB') // 1610612736
 * formatBytes(1610612736) // '1.5 GiB'
 * ```
 */

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(?:([kKMGT])(i)?)?[bB]?\s*$/
const SIZE_MULT: Record<string, number> = { k: 1, K: 1, M: 2, G: 3, T: 4 }

/** Bytes, or undefined when `text` is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text)
  if (m === null) return undefined
  const value = Number(m[1])
  const exp = m[2] === undefined ? 0 : SIZE_MULT[m[2]]!
  const base = m[3] === undefined ? 1000 : 1024
  const bytes = Math.round(value * base ** exp)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/
const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

/** Milliseconds, or undefined when `text` is not a duration. A bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text)
  if (m === null) return undefined
  const ms = Math.round(Number(m[1]) * DURATION_MS[m[2] ?? 's']!)
  return Number.isSafeInteger(ms) ? ms : undefined
}

const BIN_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** `1536` → `'1.5 KiB'`; exact bytes under 1 KiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Number.isFinite(n) ? Math.max(0, n) : 0} B`
  let i = 0
  let v = n
  while (v >= 1024 && i < BIN_UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${BIN_UNITS[i]}`
}

/** `192000` → `'3 min 12 s'`, `850` → `'0.85 s'`, `90061000` → `'1 d 1 h 1 min'`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0 s'
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`
  const parts: string[] = []
  let rest = Math.round(ms / 1000)
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const q = Math.floor(rest / size)
    rest -= q * size
    if (q > 0) parts.push(`${q} ${unit}`)
  }
  return parts.slice(0, 3).join(' ')
}
