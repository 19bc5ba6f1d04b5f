/**
 * Reading the native client's fallback log without losing or double-counting a line.
 *
 * When the client compiles without the daemon (daemon down, socket refused…) it appends
 * `"<unix-seconds> <reason>\n"` to `$MESHCC_HOME/run/fallbacks.log` (O_APPEND, one write per
 * line). The daemon takes the log over by renaming it to `fallbacks.log.<ms>.<pid>.<n>.ingest`
 * (the client's next append creates a new log), waits a grace period so that a client which
 * opened the old file just before the rename finishes its write, then reads and parses it.
 * Deleting the file is the caller's job, after it has persisted the counts.
 */
import { readdir, readFile, rename } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export const INGEST_SUFFIX = '.ingest'
let seq = 0

/** Renames the live log aside; returns false when there was no log. */
export async function takeOverLog(path: string, now: number): Promise<boolean> {
  const aside = `${path}.${now}.${process.pid}.${seq++}${INGEST_SUFFIX}`
  try {
    await rename(path, aside)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/** Renamed logs whose rename is at least `graceMs` old, oldest first. */
export async function pendingLogs(path: string, now: number, graceMs: number): Promise<string[]> {
  const dir = dirname(path)
  const prefix = `${basename(path)}.`
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(INGEST_SUFFIX))
    .map((n) => ({ n, at: Number(n.slice(prefix.length).split('.')[0]) }))
    .filter((x) => Number.isFinite(x.at) && now - x.at >= graceMs)
    .sort((a, b) => a.at - b.at)
    .map((x) => join(dir, x.n))
}

/** Counts complete lines by reason. A torn last line (client killed mid-write) is ignored. */
export async function countReasons(file: string): Promise<Map<string, number>> {
  const text = await readFile(file, 'utf8')
  const counts = new Map<string, number>()
  const end = text.lastIndexOf('\n')
  if (end < 0) return counts
  for (const line of text.slice(0, end).split('\n')) {
    if (line.trim() === '') continue
    const m = /^\s*\d+\s+(\S.*?)\s*$/.exec(line)
    const reason = sanitizeReason(m?.[1] ?? 'unknown')
    counts.set(reason, (counts.get(reason) ?? 0) + 1)
  }
  return counts
}

/** Reasons become JSON keys and table rows: keep them short and printable. */
export function sanitizeReason(reason: string): string {
  const clean = reason.replace(/[^\w.:/@+-]+/g, '-').slice(0, 64)
  return clean === '' ? 'unknown' : clean
}
