/**
 * Invitations: short-lived, limited-use tokens that let a new machine join an organisation.
 *
 * The token an admin prints is `base64url(envelope || secret)`. The envelope is signed with the
 * organisation key over `"meshcc-invite-v1\0" || tbs`, where `tbs` (canonical JSON) carries
 * `{ v, id, org, orgKey, inviter?, addrs, exp, maxUses, roles, groups }`, so nobody holding the
 * token can raise its roles or extend it. The 32-byte secret sits outside the signed part: it is
 * `HMAC(HKDF(orgSecretKey), id)`, so the admin node recomputes it from the id and keeps no
 * secrets on disk.
 *
 * To redeem, the joiner sends only the signed envelope plus a proof
 * `HMAC(secret, "meshcc-invite-proof-v1\0" || id || joinerPeerMultihash)`: the secret never
 * crosses the wire, and a proof captured in transit is useless to any other peer id.
 *
 * @example
 * ```ts
 * const { token } = createInvitation(org, { ttlSeconds: 3600, maxUses: 1 })   // admin
 * const inv = parseInvitation(token)                                         // joiner
 * send({ invitation: inv.signed, proof: invitationProof(inv, myPeerId) })
 * ```
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { InvalidInvitationError, InvitationExpiredError } from '../errors.ts'
import { DOMAIN_INVITE, sha256, signWithDomain, verifyWithDomain } from './ed25519.ts'
import {
  canonicalJson,
  fromBase64Url,
  fromHex,
  parseCanonicalObject,
  toBase64Url,
  toHex,
} from './encoding.ts'
import { decodeEnvelope, encodeEnvelope, KIND_INVITE } from './envelope.ts'
import { type PeerRef, peerMultihash } from './peer.ts'
import {
  CLOCK_SKEW_SECONDS,
  GROUP_RE,
  isRole,
  isStrictlySorted,
  MAX_GROUPS,
  normalizeGroups,
  normalizeRoles,
  ORG_NAME_RE,
  type Org,
  type Role,
  type TrustedOrgKey,
} from './types.ts'

export const MAX_INVITATION_BYTES = 4096
export const MAX_INVITATION_TTL_SECONDS = 7 * 24 * 3600
export const MAX_INVITATION_USES = 1000
export const MAX_INVITER_ADDRS = 16
const SECRET_BYTES = 32
const ID_BYTES = 16
const TBS_VERSION = 1
const PROOF_DOMAIN = 'meshcc-invite-proof-v1\0'
const REQUIRED_KEYS = ['addrs', 'exp', 'groups', 'id', 'maxUses', 'org', 'orgKey', 'roles', 'v']

/** The signed, public part of an invitation. */
export interface SignedInvitation {
  /** 16 random bytes, hex: the key of the use ledger. */
  readonly id: string
  /** The organisation and its public key (the trust anchor the joiner will keep). */
  readonly orgKey: TrustedOrgKey
  /** The admin node to contact, if the mesh filled it in. */
  readonly inviterPeerId?: string
  readonly addrs: readonly string[]
  /** Expiry, unix seconds. */
  readonly exp: number
  readonly maxUses: number
  /** What the joiner's certificate will grant. */
  readonly roles: readonly Role[]
  readonly groups: readonly string[]
  /** The signed envelope: what the joiner sends to redeem. */
  readonly signed: Uint8Array
}

/** A parsed token, as the joiner holds it. */
export interface Invitation extends SignedInvitation {
  readonly secret: Uint8Array
}

export interface CreateInvitationOptions {
  ttlSeconds: number
  maxUses: number
  roles?: Iterable<Role>
  groups?: Iterable<string>
  inviterPeerId?: string
  addrs?: readonly string[]
  /** ms since the epoch (default now). */
  now?: number
}

function isAddr(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 256 && /^\/[\x21-\x7e]*$/.test(value)
}

/** The per-invitation secret, derived from the organisation key so it need not be stored. */
export function invitationSecret(org: Org, id: string): Uint8Array {
  const key = new Uint8Array(
    hkdfSync('sha256', org.secretKey, new Uint8Array(0), 'meshcc-invite-secret-v1', 32),
  )
  return new Uint8Array(createHmac('sha256', key).update(id).digest())
}

/** The joiner's proof of holding the token, bound to its own peer id. */
export function invitationProof(
  invitation: { id: string; secret: Uint8Array },
  peerId: PeerRef,
): Uint8Array {
  return new Uint8Array(
    createHmac('sha256', invitation.secret)
      .update(PROOF_DOMAIN)
      .update(invitation.id)
      .update(peerMultihash(peerId))
      .digest(),
  )
}

/** Makes an invitation signed by the organisation key; `token` is what to print. */
export function createInvitation(
  org: Org,
  options: CreateInvitationOptions,
): { token: string; invitation: Invitation } {
  const { ttlSeconds, maxUses } = options
  if (
    !Number.isSafeInteger(ttlSeconds) ||
    ttlSeconds < 1 ||
    ttlSeconds > MAX_INVITATION_TTL_SECONDS
  ) {
    throw new RangeError(`ttlSeconds must be an integer in 1..${MAX_INVITATION_TTL_SECONDS}`)
  }
  if (!Number.isSafeInteger(maxUses) || maxUses < 1 || maxUses > MAX_INVITATION_USES) {
    throw new RangeError(`maxUses must be an integer in 1..${MAX_INVITATION_USES}`)
  }
  const roles = normalizeRoles(options.roles ?? ['client', 'builder'])
  if (roles.length === 0) throw new RangeError('an invitation needs at least one role')
  const addrs = [...(options.addrs ?? [])]
  if (addrs.length > MAX_INVITER_ADDRS || !addrs.every(isAddr))
    throw new RangeError('invalid addrs')
  if (options.inviterPeerId !== undefined) peerMultihash(options.inviterPeerId) // validates
  const id = toHex(randomBytes(ID_BYTES))
  const tbs = canonicalJson({
    v: TBS_VERSION,
    id,
    org: org.org,
    orgKey: toBase64Url(org.publicKey),
    inviter: options.inviterPeerId,
    addrs,
    exp: Math.floor((options.now ?? Date.now()) / 1000) + ttlSeconds,
    maxUses,
    roles,
    groups: normalizeGroups(options.groups ?? []),
  })
  const signed = encodeEnvelope({
    kind: KIND_INVITE,
    tbs,
    sig: signWithDomain(org.secretKey, DOMAIN_INVITE, tbs),
  })
  const secret = invitationSecret(org, id)
  const token = toBase64Url(Buffer.concat([signed, secret]))
  const invitation = decodeSignedInvitation(signed)
  if (invitation === undefined) throw new RangeError('cannot build invitation')
  return { token, invitation: { ...invitation, secret } }
}

/**
 * Decodes the signed part of an invitation and checks its signature against the key it names.
 * Undefined if malformed or badly signed. Whether that key is one we trust is the caller's call.
 */
export function decodeSignedInvitation(bytes: Uint8Array): SignedInvitation | undefined {
  const envelope = decodeEnvelope(bytes, KIND_INVITE, MAX_INVITATION_BYTES)
  if (envelope === undefined) return undefined
  const t = parseCanonicalObject(envelope.tbs)
  if (t === undefined) return undefined
  const keys = Object.keys(t)
    .filter((k) => k !== 'inviter')
    .sort()
  if (keys.length !== REQUIRED_KEYS.length || keys.some((k, i) => k !== REQUIRED_KEYS[i]))
    return undefined
  const { v, id, org, orgKey, inviter, addrs, exp, maxUses, roles, groups } = t
  if (v !== TBS_VERSION || typeof id !== 'string' || fromHex(id, ID_BYTES) === undefined)
    return undefined
  if (typeof org !== 'string' || !ORG_NAME_RE.test(org)) return undefined
  const publicKey = typeof orgKey === 'string' ? fromBase64Url(orgKey) : undefined
  if (publicKey?.length !== 32) return undefined
  if (inviter !== undefined) {
    if (typeof inviter !== 'string') return undefined
    try {
      peerMultihash(inviter)
    } catch {
      return undefined
    }
  }
  if (!Array.isArray(addrs) || addrs.length > MAX_INVITER_ADDRS || !addrs.every(isAddr))
    return undefined
  if (!Number.isSafeInteger(exp) || (exp as number) < 0) return undefined
  if (
    !Number.isSafeInteger(maxUses) ||
    (maxUses as number) < 1 ||
    (maxUses as number) > MAX_INVITATION_USES
  ) {
    return undefined
  }
  if (
    !Array.isArray(roles) ||
    roles.length === 0 ||
    !roles.every(isRole) ||
    !isStrictlySorted(roles)
  ) {
    return undefined
  }
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS || !isStrictlySorted(groups))
    return undefined
  if (!groups.every((g) => typeof g === 'string' && GROUP_RE.test(g))) return undefined
  if (!verifyWithDomain(publicKey, DOMAIN_INVITE, envelope.tbs, envelope.sig)) return undefined
  return {
    id,
    orgKey: { org, publicKey },
    ...(inviter === undefined ? {} : { inviterPeerId: inviter as string }),
    addrs: addrs as string[],
    exp: exp as number,
    maxUses: maxUses as number,
    roles: roles as Role[],
    groups: groups as string[],
    signed: bytes.slice(),
  }
}

/**
 * Parses a token as printed by `meshcc org invite`: structure, signature and expiry (with the
 * usual clock skew). Throws InvalidInvitationError or InvitationExpiredError.
 */
export function parseInvitation(
  token: string,
  { now = Date.now() }: { now?: number } = {},
): Invitation {
  const raw = token.trim()
  const bytes =
    raw.length <= ((MAX_INVITATION_BYTES + SECRET_BYTES) * 4) / 3 + 4
      ? fromBase64Url(raw)
      : undefined
  if (bytes === undefined || bytes.length <= SECRET_BYTES) {
    throw new InvalidInvitationError('the invitation token is not valid base64url or is truncated')
  }
  const signed = bytes.subarray(0, bytes.length - SECRET_BYTES)
  const invitation = decodeSignedInvitation(signed)
  if (invitation === undefined) {
    throw new InvalidInvitationError('the invitation token is malformed or its signature is wrong')
  }
  if (now / 1000 > invitation.exp + CLOCK_SKEW_SECONDS) {
    throw new InvitationExpiredError(
      `the invitation expired at ${new Date(invitation.exp * 1000).toISOString()}`,
    )
  }
  return { ...invitation, secret: bytes.slice(bytes.length - SECRET_BYTES) }
}

/** A short, printable fingerprint of an invitation's org key, for confirmation prompts. */
export function invitationOrgFingerprint(invitation: SignedInvitation): string {
  return toHex(sha256(invitation.orgKey.publicKey)).slice(0, 16)
}
