/**
 * Toolchain transfers under way, as `meshcc toolchain list` shows them: asked of the running
 * daemon (`transfers` control command; none when no daemon runs), printed as an "in transfer"
 * section with phase, percent and rate, and in `--json` attached to the toolchain's entry as
 * `transfer` (an entry is added for a toolchain the store does not list yet), so the JSON stays
 * the array it always was.
 */
import type { NodePaths } from '../config/paths.ts'
import type { TransferProgressEvent } from '../toolchain-transfer/transfer-progress.ts'
import { controlRequest } from './control-client.ts'

export interface TransferView {
  phase: TransferProgressEvent['phase']
  done: number
  total: number
  /** 0–100, one decimal; null while the total is unknown. */
  percent: number | null
  bytesPerSecond: number
  peers: number
  elapsedMs: number
}

/** The daemon's transfers; empty when no daemon answers within `timeoutMs`. */
export async function daemonTransfers(
  paths: NodePaths,
  { signal, timeoutMs = 1000 }: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<TransferProgressEvent[]> {
  try {
    const reply = await controlRequest(paths, 'transfers', {
      timeoutMs,
      ...(signal === undefined ? {} : { signal }),
    })
    return Array.isArray(reply['transfers']) ? (reply['transfers'] as TransferProgressEvent[]) : []
  } catch {
    return [] // no daemon, or an older one without the command: nothing in transfer
  }
}

export function transferView(p: TransferProgressEvent): TransferView {
  return {
    phase: p.phase,
    done: p.done,
    total: p.total,
    percent: p.total > 0 ? Math.round((Math.min(p.done, p.total) / p.total) * 1000) / 10 : null,
    bytesPerSecond: Math.round(p.bytesPerSecond),
    peers: p.peers,
    elapsedMs: Math.round(p.elapsedMs),
  }
}

/** `list` entries with `transfer` attached by id; transfers of unlisted ids appended. */
export function withTransfers<T extends { id: string }>(
  list: readonly T[],
  transfers: readonly TransferProgressEvent[],
): (T | { id: string; complete: false; transfer: TransferView })[] {
  const byId = new Map(transfers.map((p) => [p.id, transferView(p)]))
  const out: (T | { id: string; complete: false; transfer: TransferView })[] = list.map((t) => {
    const v = byId.get(t.id)
    byId.delete(t.id)
    return v === undefined ? t : { ...t, transfer: v }
  })
  for (const [id, transfer] of byId) out.push({ id, complete: false, transfer })
  return out
}

/** The human section: empty string when nothing is in transfer. */
export function formatTransfers(transfers: readonly TransferProgressEvent[]): string {
  if (transfers.length === 0) return ''
  const rows = transfers.map((p) => {
    const v = transferView(p)
    return [
      p.id.slice(0, 16),
      v.phase,
      v.percent === null ? '?' : `${v.percent.toFixed(1)}%`,
      v.phase === 'chunks'
        ? `${formatBytes(v.done)}/${formatBytes(v.total)}`
        : `${v.done}/${v.total}`,
      v.phase === 'chunks' ? `${formatBytes(v.bytesPerSecond)}/s` : '-',
      String(v.peers),
      `${(v.elapsedMs / 1000).toFixed(1)}s`,
    ]
  })
  const head = ['ID', 'PHASE', 'DONE', 'OF', 'RATE', 'PEERS', 'ELAPSED']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const table = [head, ...rows]
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n')
  return `in transfer:\n${table}`
}

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
