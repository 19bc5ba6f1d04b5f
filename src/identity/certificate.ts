/**
 * Node certificates: an organisation's signed statement that a libp2p peer id is a member, with
 * roles, groups and a validity window.
 *
 * Envelope `{ v: 1, tbs, sig }` (see `envelope.ts`); `tbs` is canonical JSON
 * `{ v, serial, org, issuer, subject, name, roles, groups, nbf, exp }` and
 * `sig = Ed25519(orgKey, "meshcc-cert-v1\0" || tbs)`. Decoding validates every field and never
 * re-encodes: the signature is checked over the TBS bytes exactly as received.
 *
 * @example
 * ```ts
 * const bytes = issueCertificate(org, { peerId, name: 'build-01', roles: ['builder'] })
 * const cert = decodeCertificate(bytes) // throws nothing; undefined when malformed
 * ```
 */
import { randomBytes } from 'node:crypto'
import { DOMAIN_CERT, sha256, signWithDomain } from './ed25519.ts'
import {
  canonicalJson,
  fromBase64Url,
  fromHex,
  parseCanonicalObject,
  toBase64Url,
  toHex,
} from './encoding.ts'
import { decodeEnvelope, encodeEnvelope, KIND_CERT } from './envelope.ts'
import { type PeerRef, peerIdStringFromSubject, peerMultihash } from './peer.ts'
import {
  GROUP_RE,
  isRole,
  isStrictlySorted,
  isValidHostLabel,
  MAX_GROUPS,
  normalizeGroups,
  normalizeRoles,
  ORG_NAME_RE,
  type Org,
  type Role,
} from './types.ts'

/** Largest encoded certificate accepted (also the auth protocol's frame limit). */
export const MAX_CERT_BYTES = 16 * 1024
/** Default lifetime of node certificates: short, so expiry is the main revocation. */
export const DEFAULT_CERT_TTL_SECONDS = 14 * 24 * 3600
/** Longest lifetime `issueCertificate` accepts. */
export const MAX_CERT_TTL_SECONDS = 366 * 24 * 3600
const TBS_VERSION = 1
const SERIAL_BYTES = 16

/** A decoded (not yet verified) certificate. */
export interface Certificate {
  /** 16 random bytes, lowercase hex: what a revocation list names. */
  readonly serial: string
  readonly org: string
  /** sha256 of the issuing organisation's public key. */
  readonly issuer: Uint8Array
  /** The subject's peer id multihash bytes. */
  readonly subject: Uint8Array
  /** The subject's peer id as a string (`12D3KooW…`). */
  readonly peerId: string
  /** Host label, for logs and views only: never used for decisions. */
  readonly name: string
  readonly roles: readonly Role[]
  readonly groups: readonly string[]
  /** Not before / expires, unix seconds. */
  readonly nbf: number
  readonly exp: number
  /** The signed bytes exactly as received, and the signature. */
  readonly tbs: Uint8Array
  readonly sig: Uint8Array
  /** The whole encoded certificate. */
  readonly bytes: Uint8Array
  /** sha256 of `bytes`, hex. */
  readonly fingerprint: string
}

export interface IssueOptions {
  peerId: PeerRef
  name: string
  roles: Iterable<Role>
  groups?: Iterable<string>
  ttlSeconds?: number
  /** Start of validity, ms since the epoch (default now). */
  now?: number
}

/** Signs a certificate for `peerId` with the organisation key; returns the encoded bytes. */
export function issueCertificate(org: Org, options: IssueOptions): Uint8Array {
  const ttl = options.ttlSeconds ?? DEFAULT_CERT_TTL_SECONDS
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_CERT_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer in 1..${MAX_CERT_TTL_SECONDS}`)
  }
  if (!isValidHostLabel(options.name)) throw new RangeError('invalid host label')
  const subject = peerMultihash(options.peerId)
  if (peerIdStringFromSubject(subject) === undefined) {
    throw new RangeError('certificate subjects must be Ed25519 peer ids')
  }
  const roles = normalizeRoles(options.roles)
  if (roles.length === 0) throw new RangeError('a certificate needs at least one role')
  const nbf = Math.floor((options.now ?? Date.now()) / 1000)
  const tbs = canonicalJson({
    v: TBS_VERSION,
    serial: toHex(randomBytes(SERIAL_BYTES)),
    org: org.org,
    issuer: toBase64Url(org.issuer),
    subject: toBase64Url(subject),
    name: options.name,
    roles,
    groups: normalizeGroups(options.groups ?? []),
    nbf,
    exp: nbf + ttl,
  })
  return encodeCertificateParts(tbs, signWithDomain(org.secretKey, DOMAIN_CERT, tbs))
}

/** Encodes a TBS and its signature into the certificate envelope. */
export function encodeCertificateParts(tbs: Uint8Array, sig: Uint8Array): Uint8Array {
  return encodeEnvelope({ kind: KIND_CERT, tbs, sig })
}

/** The encoded bytes of a certificate (they are kept as received, never rebuilt). */
export function encodeCertificate(cert: Certificate): Uint8Array {
  return cert.bytes
}

const TBS_KEYS = [
  'exp',
  'groups',
  'issuer',
  'name',
  'nbf',
  'org',
  'roles',
  'serial',
  'subject',
  'v',
]

function isUnixSeconds(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

/**
 * Decodes and validates a certificate's structure (not its signature or validity: see
 * `verifyCertificate`). Returns undefined for anything oversize, truncated or malformed.
 */
export function decodeCertificate(bytes: Uint8Array): Certificate | undefined {
  const envelope = decodeEnvelope(bytes, KIND_CERT, MAX_CERT_BYTES)
  if (envelope === undefined) return undefined
  const t = parseCanonicalObject(envelope.tbs)
  if (t === undefined) return undefined
  const keys = Object.keys(t).sort()
  if (keys.length !== TBS_KEYS.length || keys.some((k, i) => k !== TBS_KEYS[i])) return undefined
  const { v, serial, org, issuer, subject, name, roles, groups, nbf, exp } = t
  if (v !== TBS_VERSION) return undefined
  if (typeof serial !== 'string' || fromHex(serial, SERIAL_BYTES) === undefined) return undefined
  if (typeof org !== 'string' || !ORG_NAME_RE.test(org)) return undefined
  const issuerBytes = typeof issuer === 'string' ? fromBase64Url(issuer) : undefined
  if (issuerBytes?.length !== 32) return undefined
  const subjectBytes = typeof subject === 'string' ? fromBase64Url(subject) : undefined
  const peerId = subjectBytes === undefined ? undefined : peerIdStringFromSubject(subjectBytes)
  if (subjectBytes === undefined || peerId === undefined) return undefined
  if (!isValidHostLabel(name)) return undefined
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) return undefined
  if (!isStrictlySorted(roles)) return undefined
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS) return undefined
  if (
    !groups.every((g) => typeof g === 'string' && GROUP_RE.test(g)) ||
    !isStrictlySorted(groups)
  ) {
    return undefined
  }
  if (!isUnixSeconds(nbf) || !isUnixSeconds(exp) || exp <= nbf) return undefined
  return {
    serial,
    org,
    issuer: issuerBytes,
    subject: subjectBytes,
    peerId,
    name,
    roles: roles as Role[],
    groups: groups as string[],
    nbf,
    exp,
    tbs: envelope.tbs,
    sig: envelope.sig,
    bytes: bytes.slice(),
    fingerprint: toHex(sha256(bytes)),
  }
}
