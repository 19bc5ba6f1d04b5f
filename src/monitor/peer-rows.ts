/**
 * Turns a {@link PeersSnapshot} into the rows and totals `meshcc peers` shows: one row per
 * member (this node marked), sorted by host, every value already formatted as cleaned text, plus
 * the state the view colours (certificate close to expiry, member without a live advert or
 * connection). Pure, so the renderer and its tests need no terminal and no clock.
 */
import { clean } from './text-cell.ts'
import type { PeersSnapshot, SnapshotPeer, SnapshotSelf } from './types.ts'

/** A certificate this close to expiry is flagged; under a day, or past, it is an alarm. */
export const CERT_WARN_MS = 7 * 24 * 3600_000
export const CERT_ALARM_MS = 24 * 3600_000

export type CertLevel = 'ok' | 'warn' | 'alarm' | 'unknown'

export interface PeerRow {
  peerId: string
  self: boolean
  /** No live advert, or no open connection: values may be stale or missing. */
  stale: boolean
  host: string
  platform: string
  cores: string
  free: string
  load: string
  jobs: string
  queued: string
  rtt: string
  cert: string
  certLevel: CertLevel
  toolchains: string
}

export interface PeerTotals {
  members: number
  cores: number
  used: number
  free: number
  running: number
  queued: number
}

const num = (n: number | null | undefined): n is number =>
  typeof n === 'number' && Number.isFinite(n)

/** Busy slots: `cores − freeSlots`, within 0…cores. */
function usedOf(p: SnapshotSelf | SnapshotPeer): number | null {
  if (!num(p.cores) || !num(p.freeSlots)) return null
  return Math.min(p.cores, Math.max(0, p.cores - p.freeSlots))
}

function runningOf(p: SnapshotSelf | SnapshotPeer): number | null {
  return num(p.runningJobs) ? p.runningJobs : usedOf(p)
}

export function hostOf(p: SnapshotSelf | SnapshotPeer): string {
  const host = clean(p.host ?? '') || clean(p.name ?? '')
  return host !== '' ? host : `…${clean(p.peerId).slice(-8)}`
}

export function formatRtt(ms: number | null | undefined): string {
  if (!num(ms)) return '?'
  if (ms < 10) return `${ms.toFixed(1)}ms`
  if (ms < 10_000) return `${Math.round(ms)}ms`
  return `${Math.round(ms / 1000)}s`
}

/** Time left on a certificate, in the largest unit that keeps two significant figures. */
export function formatCert(expiry: number | undefined, now: number): [string, CertLevel] {
  if (!num(expiry) || expiry <= 0) return ['?', 'unknown']
  const left = expiry - now
  if (left <= 0) return ['expired', 'alarm']
  const level: CertLevel = left < CERT_ALARM_MS ? 'alarm' : left < CERT_WARN_MS ? 'warn' : 'ok'
  const mark = level === 'ok' ? '' : '!'
  if (left < 3600_000) return [`${Math.max(1, Math.floor(left / 60_000))}m${mark}`, level]
  if (left < 48 * 3600_000) return [`${Math.floor(left / 3600_000)}h${mark}`, level]
  return [`${Math.floor(left / (24 * 3600_000))}d${mark}`, level]
}

function rowOf(p: SnapshotSelf | SnapshotPeer, self: boolean, now: number): PeerRow {
  const peer = p as SnapshotPeer
  const used = usedOf(p)
  const running = runningOf(p)
  const [cert, certLevel] = formatCert(p.certExpiry, now)
  const platform = p.platform === null ? '?' : clean(p.platform)
  return {
    peerId: p.peerId,
    self,
    stale: !self && (peer.connected === false || peer.advertAgeMs === null),
    host: hostOf(p),
    platform: p.arch ? `${platform}/${clean(p.arch)}` : platform,
    cores: num(p.cores) ? `${used ?? '?'}/${p.cores}` : '?',
    free: num(p.freeSlots) ? String(p.freeSlots) : '?',
    load: num(p.load) ? p.load.toFixed(2) : '?',
    jobs: running === null ? '?' : String(running),
    queued: num(p.queuedJobs) ? String(p.queuedJobs) : '?',
    rtt: self ? '-' : peer.connected === false ? 'off' : formatRtt(peer.rttMs),
    cert,
    certLevel,
    toolchains: (p.toolchains ?? []).map(clean).join(', '),
  }
}

/** All members, this node included, sorted by host (then peer id, so the order is stable). */
export function peerRows(snapshot: PeersSnapshot, now: number): PeerRow[] {
  const rows = [
    rowOf(snapshot.self, true, now),
    ...snapshot.peers
      .filter((p) => p.peerId !== snapshot.self.peerId)
      .map((p) => rowOf(p, false, now)),
  ]
  return rows.sort((a, b) => a.host.localeCompare(b.host) || (a.peerId < b.peerId ? -1 : 1))
}

export function peerTotals(snapshot: PeersSnapshot): PeerTotals {
  const t: PeerTotals = { members: 0, cores: 0, used: 0, free: 0, running: 0, queued: 0 }
  for (const p of [snapshot.self, ...snapshot.peers]) {
    if (p !== snapshot.self && p.peerId === snapshot.self.peerId) continue
    t.members++
    if (num(p.cores)) t.cores += p.cores
    t.used += usedOf(p) ?? 0
    if (num(p.freeSlots)) t.free += p.freeSlots
    t.running += runningOf(p) ?? 0
    if (num(p.queuedJobs)) t.queued += p.queuedJobs
  }
  return t
}
