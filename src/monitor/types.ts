/**
 * The snapshot `meshcc peers` shows: `{ self, peers }`, as the daemon's peer directory produces
 * it (`src/mesh/peer-directory.ts`, `DirectorySnapshot`) and `meshcc peers --json` prints it.
 *
 * The monitor declares only what it reads, and reads every advert field as possibly missing or
 * null: a member may be admitted before its first advert arrives, and a daemon of another
 * version may send fewer fields. Only `peerId`, `org`, `platform`, `cores` and `freeSlots` are
 * promised for every entry (null on a peer until its first advert). A test checks that the
 * mesh's `DirectorySnapshot` stays assignable to {@link PeersSnapshot}.
 *
 * @example
 * ```ts
 * const snapshot: PeersSnapshot = { self: { peerId, org, platform: 'linux', cores: 8, freeSlots: 8 }, peers: [] }
 * ```
 */

/** Fields a node advertises over gossip; any may be absent on a peer. */
export interface AdvertisedFields {
  /** Host name from the advert. */
  host?: string | null
  /** Name from the member's certificate; shown when the advert has no host. */
  name?: string
  arch?: string | null
  /** One-minute load average divided by cores (0 idle, 1 saturated). */
  load?: number | null
  queuedJobs?: number | null
  /** Jobs running now; when absent the view counts busy slots (`cores − freeSlots`). */
  runningJobs?: number | null
  speed?: number | null
  toolchains?: readonly string[]
  /** Certificate expiry, Unix ms (0 or absent: unknown). */
  certExpiry?: number
  version?: string | null
}

/** This node. */
export interface SnapshotSelf extends AdvertisedFields {
  peerId: string
  org: string
  platform: string
  cores: number
  freeSlots: number
}

/** An admitted member this node knows. */
export interface SnapshotPeer extends AdvertisedFields {
  peerId: string
  org: string
  platform: string | null
  cores: number | null
  freeSlots: number | null
  /** Round-trip time, ms; null before the first ping. */
  rttMs?: number | null
  /** True while an admitted connection is open. */
  connected?: boolean
  /** Age of the latest advert, ms; null when none is live. */
  advertAgeMs?: number | null
}

export interface PeersSnapshot {
  self: SnapshotSelf
  peers: SnapshotPeer[]
}

/** Where `meshcc peers` gets its snapshots (the daemon's control socket, or a test fake). */
export interface PeersSource {
  snapshot(signal: AbortSignal): Promise<PeersSnapshot>
}
