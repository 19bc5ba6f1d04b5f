/**
 * Contracts of the mesh layer: what it needs from the identity module (certificates), what it
 * needs from the daemon (the local advert), and what it gives back (adverts, directory).
 *
 * The mesh never parses certificates itself: admission hands the raw bytes a peer sent to
 * {@link Credentials.verify}, which the identity module implements (`src/identity/`), so the
 * certificate format has exactly one owner.
 */
import type { PeerId } from '@libp2p/interface'

/** What the mesh learns from a verified certificate. */
export interface MemberCertificate {
  /** Organisation (trust domain) the certificate belongs to. */
  org: string
  /** Roles granted, e.g. `client`, `builder`, `admin`. */
  roles: readonly string[]
  /** Groups, for policy; may be empty. */
  groups: readonly string[]
  /** Human label (host name) for logs and `meshcc peers`. */
  name: string
  /** Expiry, Unix milliseconds. */
  expiresAt: number
  /** Serial in hex, for revocation lists. */
  serial: string
}

export type CertificateCheck = { ok: true; cert: MemberCertificate } | { ok: false; reason: string }

/** This node's certificate and the means to check other members' certificates. */
export interface Credentials {
  /** The bytes this node presents on `/meshcc/auth/1.0.0`. Read again on every connection. */
  certificate(): Uint8Array
  /** This node's own certificate, decoded. */
  self(): MemberCertificate
  /**
   * Checks a certificate a peer presented: chain to a trusted organisation key, validity at `now`
   * (Unix ms), revocation, and that its subject is `peerId` (the peer Noise authenticated).
   */
  verify(
    bytes: Uint8Array,
    peerId: PeerId,
    now: number,
  ): CertificateCheck | Promise<CertificateCheck>
}

/** The part of an advert the daemon supplies; the mesh adds identity, sequence and time. */
export interface AdvertFields {
  /** Host name, for display. */
  host: string
  /** `linux`, `darwin`, `win32`. */
  platform: string
  /** `x64`, `arm64`. */
  arch: string
  cores: number
  /** Compile slots this node would accept now. */
  freeSlots: number
  /** One-minute load average divided by cores (0 = idle, 1 = saturated). */
  load: number
  queuedJobs: number
  /** Learned speed figure (relative; 1 = reference machine). */
  speed: number
  /** Toolchain identifiers this node holds. */
  toolchains: readonly string[]
}

/** An advert as sent over gossip (JSON) and kept by receivers. */
export interface Advert extends AdvertFields {
  /** meshcc version of the sender. */
  version: string
  /** Expiry of the sender's certificate, Unix ms. */
  certExpiry: number
  /**
   * Where the sender listens (with `/p2p/`). Members relay adverts of members we are not yet
   * connected to; these addresses let us dial them without waiting for the DHT.
   */
  addrs: readonly string[]
  /** Strictly increasing per sender (starts at the wall clock in ms, so restarts keep growing). */
  seq: number
  /** Sender's wall clock when published, Unix ms. */
  ts: number
  /**
   * How long receivers should keep this advert, ms: the sender publishes again within it (three
   * of its periods). Receivers cap it (`MAX_ADVERT_TTL_MS`); older senders omit it.
   */
  ttl?: number
  /**
   * The sender lacks some members' certificates (it ignored their relayed adverts): receivers
   * carry theirs in their next advert.
   */
  needCerts?: boolean
}

/** Something that yields the current local advert fields (the daemon's scheduler state). */
export type AdvertSource = () => AdvertFields

/** One row of `meshcc peers --json`. */
export interface DirectoryPeer {
  peerId: string
  org: string
  name: string
  roles: readonly string[]
  certExpiry: number
  /** True while at least one admitted connection is open. */
  connected: boolean
  /** Round-trip time of the last ping, ms; null before the first. */
  rttMs: number | null
  /** Remote addresses of the open connections. */
  addrs: string[]
  /** Age of the latest advert, ms; null when none is live. */
  advertAgeMs: number | null
  host: string | null
  platform: string | null
  arch: string | null
  cores: number | null
  freeSlots: number | null
  load: number | null
  queuedJobs: number | null
  speed: number | null
  toolchains: readonly string[]
  version: string | null
}

/** This node in the snapshot. */
export interface DirectorySelf extends AdvertFields {
  peerId: string
  org: string
  name: string
  roles: readonly string[]
  certExpiry: number
  version: string
  /** Addresses this node listens on. */
  addrs: string[]
}

/** What `meshcc peers --json` prints. */
export interface DirectorySnapshot {
  self: DirectorySelf
  peers: DirectoryPeer[]
}
