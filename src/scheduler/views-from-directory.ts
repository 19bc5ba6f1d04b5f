/**
 * Builds the placement's member view from the mesh's peer directory (`meshcc peers --json`
 * rows): members with a live advert, their advertised figures, round-trip time and whether the
 * connection is admitted. Ages become absolute times on the placement's clock, so the view stays
 * consistent even though the directory measures ages on the wall clock.
 */
import type { Advert, DirectoryPeer } from '../mesh/types.ts'
import type { BuilderView } from './types.ts'

export function viewsFromDirectory(peers: readonly DirectoryPeer[], now: number): BuilderView[] {
  const out: BuilderView[] = []
  for (const p of peers) {
    if (p.advertAgeMs === null || p.platform === null || p.arch === null) continue
    out.push({
      peerId: p.peerId,
      platform: p.platform,
      arch: p.arch,
      cores: p.cores ?? 0,
      freeSlots: p.freeSlots ?? 0,
      load: p.load ?? 0,
      queuedJobs: p.queuedJobs ?? 0,
      speed: p.speed ?? 1,
      toolchains: p.toolchains,
      version: p.version ?? '',
      advertAt: now - p.advertAgeMs,
      rttMs: p.rttMs,
      admitted: p.connected,
      builder: p.roles.includes('builder'),
    })
  }
  return out
}

/**
 * One member's view straight from its advert, for a daemon that keeps the views up to date as
 * adverts arrive (cheaper than a directory snapshot per decision: the placement reads the view at
 * every decision). `advertAt` must be on the placement's clock: with the mesh's wall-clock
 * `receivedAt`, pass `clock.now() - (Date.now() - receivedAt)`.
 */
export function viewFromAdvert(
  peerId: string,
  advert: Advert,
  at: { advertAt: number; rttMs: number | null; admitted: boolean; builder: boolean },
): BuilderView {
  return {
    peerId,
    platform: advert.platform,
    arch: advert.arch,
    cores: advert.cores,
    freeSlots: advert.freeSlots,
    load: advert.load,
    queuedJobs: advert.queuedJobs,
    speed: advert.speed,
    toolchains: advert.toolchains,
    version: advert.version,
    ...at,
  }
}
