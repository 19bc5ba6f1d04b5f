/**
 * `meshcc doctor`'s checks of this node's organisation identity: the certificate (valid, days to
 * expiry, revoked?), the organisation and whether this machine holds its key, and how the
 * renewal over the mesh is going (`identity/renewal.json`, written by the daemon). It warns when
 * the certificate expires within a few days and no key holder was reachable to renew it.
 */
import { existsSync } from 'node:fs'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CertificateRejectedError } from '../errors.ts'
import { isRevoked } from '../identity/crl.ts'
import { loadCrl } from '../identity/crl-store.ts'
import { bytesEqual } from '../identity/encoding.ts'
import { loadNodeIdentity, type NodeIdentity } from '../identity/node-identity.ts'
import { loadOrgIfPresent } from '../identity/org-key.ts'
import { identityPaths } from '../identity/paths.ts'
import { loadOrCreatePeerKey } from '../mesh/node-key.ts'
import { type RenewalState, readRenewalState } from '../renewal/state.ts'
import type { Check } from './doctor-command.ts'

const DAY_MS = 86_400_000
/** Expiry closer than this (or than a quarter of the lifetime) with renewal failing: warn. */
export const CERT_WARN_DAYS = 3

const when = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19)

function left(ms: number): string {
  if (ms >= DAY_MS) return `${(ms / DAY_MS).toFixed(1)} days`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} hours`
  return `${Math.max(0, Math.round(ms / 1000))} s`
}

/** Certificate, organisation and renewal checks of a joined node. */
export async function checkIdentity(home: string, now = Date.now()): Promise<Check[]> {
  const ids = identityPaths(home)
  const rejoin = 'ask an admin for a new invitation and run `meshcc join --invite TOKEN`'
  if (!existsSync(ids.peerKey) || !existsSync(ids.nodeCert)) {
    return [
      {
        name: 'certificate',
        status: 'fail',
        detail: `no node certificate in ${ids.nodeCert}`,
        hint: 'run `meshcc join` (or `meshcc join --invite TOKEN`)',
      },
    ]
  }
  let identity: NodeIdentity | undefined
  try {
    const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(ids.peerKey))
    identity = await loadNodeIdentity(ids, peerId, { now })
  } catch (err) {
    const reason = (err as { reason?: string }).reason
    return [
      {
        name: 'certificate',
        status: 'fail',
        detail:
          err instanceof CertificateRejectedError
            ? `${ids.nodeCert} is ${reason ?? 'invalid'}`
            : (err as Error).message,
        hint: rejoin,
      },
    ]
  }
  if (identity === undefined) {
    return [{ name: 'certificate', status: 'fail', detail: 'none', hint: rejoin }]
  }
  const { cert, trustAnchor } = identity
  const org = await loadOrgIfPresent(ids).catch(() => undefined)
  const holdsKey = org !== undefined && bytesEqual(org.publicKey, trustAnchor.publicKey)
  const checks: Check[] = [
    {
      name: 'organisation',
      status: 'ok',
      detail: `${cert.org}; this node ${holdsKey ? 'holds the organisation key (it enrolls and renews members)' : 'is a member'}, roles ${cert.roles.join(', ')}`,
    },
  ]
  const crl = await loadCrl(ids, [trustAnchor]).catch(() => undefined)
  if (isRevoked(crl, cert)) {
    checks.unshift({
      name: 'certificate',
      status: 'fail',
      detail: `revoked (revocation list seq ${crl?.seq}); members refuse this node`,
      hint: rejoin,
    })
    return checks
  }
  const expiresAt = cert.exp * 1000
  const remaining = expiresAt - now
  const lifetime = (cert.exp - cert.nbf) * 1000
  const warnWithin = Math.min(CERT_WARN_DAYS * DAY_MS, lifetime / 4)
  const state = holdsKey ? undefined : await readRenewalState(home)
  const detail = `valid until ${when(expiresAt)} UTC (${left(remaining)} left), serial ${cert.serial}`
  let certCheck: Check = { name: 'certificate', status: 'ok', detail }
  if (!holdsKey && remaining <= warnWithin) {
    const failing = state === undefined || state.failures > 0 || state.lastAttemptAt === null
    if (failing) {
      certCheck = {
        name: 'certificate',
        status: 'warn',
        detail: `${detail}; ${state === undefined || state.lastAttemptAt === null ? 'no renewal attempted yet' : `no key holder renewed it (${state.lastError ?? 'unknown'})`}`,
        hint:
          'members renew over the mesh from a node holding the organisation key: keep the daemon running ' +
          'and an admin node reachable (`meshcc peers`), or ask an admin for `meshcc org issue --peer ID`',
      }
    }
  }
  checks.unshift(certCheck)
  checks.push(renewalCheck(holdsKey, state))
  return checks
}

function renewalCheck(holdsKey: boolean, state: RenewalState | undefined): Check {
  const name = 'renewal'
  if (holdsKey) {
    return { name, status: 'ok', detail: 'this node renews its own certificate (it holds the key)' }
  }
  if (state === undefined || (state.lastAttemptAt === null && state.lastSuccessAt === null)) {
    const next = state?.nextAttemptAt
    return {
      name,
      status: 'ok',
      detail: `over the mesh once two thirds of the lifetime have passed${next ? ` (next check ${when(next)} UTC)` : ''}`,
    }
  }
  if (state.terminal) {
    return {
      name,
      status: 'fail',
      detail: `refused by the key holder: ${state.lastError}`,
      hint: 'this certificate cannot be renewed; ask an admin for a new invitation',
    }
  }
  if (state.failures > 0) {
    return {
      name,
      status: 'warn',
      detail: `${state.failures} attempt${state.failures === 1 ? '' : 's'} failed (${state.lastError})${state.nextAttemptAt ? `, next ${when(state.nextAttemptAt)} UTC` : ''}`,
      hint: 'no member holding the organisation key was reachable; it retries with backoff',
    }
  }
  return {
    name,
    status: 'ok',
    detail: `renewed ${state.lastSuccessAt ? `at ${when(state.lastSuccessAt)} UTC ` : ''}by ${state.renewedBy ?? '?'}`,
  }
}
