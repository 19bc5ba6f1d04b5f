/**
 * This node's own certificate and trust anchor (`$MESHCC_HOME/identity/node.cert`, `ca.pub`),
 * and the personal organisation a first `meshcc join` creates.
 *
 * @example
 * ```ts
 * // at daemon start, before the mesh node admits anyone:
 * const { identity, created } = await ensurePersonalOrg(paths, peerId)
 * // identity.certificate: bytes to present; identity.trustAnchor: the org key to trust
 * ```
 */
import { hostname } from 'node:os'
import { CertificateRejectedError, IdentityFileError } from '../errors.ts'
import { type Certificate, DEFAULT_CERT_TTL_SECONDS, issueCertificate } from './certificate.ts'
import { bytesEqual } from './encoding.ts'
import { readIfExists, writeFileAtomic } from './files.ts'
import { createOrg, formatOrgKey, loadOrgIfPresent, parseOrgKey } from './org-key.ts'
import type { IdentityPaths } from './paths.ts'
import type { PeerRef } from './peer.ts'
import { ORG_NAME_RE, type Org, type TrustedOrgKey } from './types.ts'
import { needsRenewal, verifyCertificate } from './verify-certificate.ts'

export interface NodeIdentity {
  /** Encoded certificate, as presented to peers. */
  certificate: Uint8Array
  cert: Certificate
  /** The organisation key the certificate chains to. */
  trustAnchor: TrustedOrgKey
}

/** Saves the node certificate and its trust anchor. */
export async function saveNodeIdentity(
  paths: IdentityPaths,
  identity: { certificate: Uint8Array; trustAnchor: TrustedOrgKey },
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const opts = signal === undefined ? {} : { signal }
  await writeFileAtomic(paths.trustAnchor, `${formatOrgKey(identity.trustAnchor)}\n`, {
    mode: 0o644,
    ...opts,
  })
  await writeFileAtomic(paths.nodeCert, identity.certificate, { mode: 0o644, ...opts })
}

/**
 * Loads and verifies the node certificate for `peerId` against the stored trust anchor.
 * Undefined if there is none; throws CertificateRejectedError (with the reason) if it is invalid.
 */
export async function loadNodeIdentity(
  paths: IdentityPaths,
  peerId: PeerRef,
  { now }: { now?: number } = {},
): Promise<NodeIdentity | undefined> {
  const [certificate, anchorText] = await Promise.all([
    readIfExists(paths.nodeCert),
    readIfExists(paths.trustAnchor),
  ])
  if (certificate === undefined) return undefined
  if (anchorText === undefined)
    throw new IdentityFileError(`${paths.nodeCert} has no ${paths.trustAnchor}`)
  let trustAnchor: TrustedOrgKey
  try {
    trustAnchor = parseOrgKey(new TextDecoder().decode(anchorText))
  } catch (err) {
    throw new IdentityFileError(`${paths.trustAnchor} is not an organisation key`, { cause: err })
  }
  const result = verifyCertificate(certificate, {
    trustedOrgKeys: [trustAnchor],
    expectedPeerId: peerId,
    ...(now === undefined ? {} : { now }),
  })
  if (!result.ok) {
    const error = new CertificateRejectedError(`the node certificate is ${result.reason}`)
    throw Object.assign(error, { reason: result.reason })
  }
  return { certificate, cert: result.cert, trustAnchor }
}

/** A valid organisation name derived from the host name: `personal-<host>`. */
export function personalOrgName(host = hostname()): string {
  const label = host
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 48)
  const name = `personal-${label || 'node'}`
  return ORG_NAME_RE.test(name) ? name : 'personal'
}

export interface EnsureOptions {
  /** Organisation name if one has to be created (default `personal-<host>`). */
  orgName?: string
  /** Host label for the certificate (default the host name). */
  name?: string
  certTtlSeconds?: number
  now?: number
  signal?: AbortSignal
}

function issueSelf(org: Org, peerId: PeerRef, options: EnsureOptions): NodeIdentity {
  const certificate = issueCertificate(org, {
    peerId,
    name: options.name ?? (hostname() || 'node'),
    roles: ['admin', 'builder', 'client'],
    ttlSeconds: options.certTtlSeconds ?? DEFAULT_CERT_TTL_SECONDS,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const trustAnchor = { org: org.org, publicKey: org.publicKey }
  const result = verifyCertificate(certificate, {
    trustedOrgKeys: [trustAnchor],
    expectedPeerId: peerId,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  if (!result.ok) throw new Error(`issued an invalid self certificate: ${result.reason}`)
  return { certificate, cert: result.cert, trustAnchor }
}

/**
 * Makes sure this node has a valid certificate, creating a personal organisation when the
 * machine has neither a certificate nor an organisation key:
 * - a valid node certificate: kept (renewed first if this node holds its org key and two thirds
 *   of its lifetime have passed);
 * - an invalid one (expired, other peer id) and this node holds the matching org key: reissued;
 * - an invalid one otherwise: CertificateRejectedError (the node must be invited again);
 * - none: issued by the org key this node holds (after `meshcc org init`), else by a new
 *   personal organisation, with roles admin, builder and client.
 * Call it at daemon start and daily, so an admin's own certificate never lapses.
 */
export async function ensurePersonalOrg(
  paths: IdentityPaths,
  peerId: PeerRef,
  options: EnsureOptions = {},
): Promise<{
  identity: NodeIdentity
  org: Org | undefined
  created: 'org' | 'certificate' | 'renewed' | false
}> {
  const { signal } = options
  signal?.throwIfAborted()
  const loadOpts = options.now === undefined ? {} : { now: options.now }
  let existing: NodeIdentity | undefined
  let rejected: unknown
  try {
    existing = await loadNodeIdentity(paths, peerId, loadOpts)
  } catch (err) {
    if (!(err instanceof CertificateRejectedError)) throw err
    rejected = err
  }
  const org = await loadOrgIfPresent(paths)
  const ownsAnchor = async (): Promise<boolean> => {
    const anchor = await readIfExists(paths.trustAnchor)
    if (anchor === undefined || org === undefined) return false
    try {
      return bytesEqual(parseOrgKey(new TextDecoder().decode(anchor)).publicKey, org.publicKey)
    } catch {
      return false
    }
  }
  const saveOpts = signal === undefined ? {} : { signal }
  if (existing !== undefined) {
    const holdsKey = org !== undefined && bytesEqual(existing.trustAnchor.publicKey, org.publicKey)
    if (!holdsKey || !needsRenewal(existing.cert, options.now))
      return { identity: existing, org, created: false }
    const identity = issueSelf(org, peerId, options)
    await saveNodeIdentity(paths, identity, saveOpts)
    return { identity, org, created: 'renewed' }
  }
  if (rejected !== undefined) {
    if (!(await ownsAnchor()) || org === undefined) throw rejected
    const identity = issueSelf(org, peerId, options)
    await saveNodeIdentity(paths, identity, saveOpts)
    return { identity, org, created: 'renewed' }
  }
  if (org !== undefined) {
    const identity = issueSelf(org, peerId, options)
    await saveNodeIdentity(paths, identity, saveOpts)
    return { identity, org, created: 'certificate' }
  }
  const created = await createOrg(options.orgName ?? personalOrgName(), paths, saveOpts)
  const identity = issueSelf(created, peerId, options)
  await saveNodeIdentity(paths, identity, saveOpts)
  return { identity, org: created, created: 'org' }
}
