/**
 * The one call the daemon makes to join the mesh: loads the peer key, the node certificate and
 * its trust anchor, and the revocation list from `$MESHCC_HOME`, starts the mesh with them, and
 * keeps the revocation list in step with `org/crl.bin` (written by `meshcc org revoke`).
 *
 * @example
 * ```ts
 * const mesh = await startMeshFromHome({
 *   home: paths.home,
 *   advertSource: () => scheduler.advertFields(),
 *   bootstrap: config.mesh.bootstrap,
 *   signal,
 * })
 * control.on('peers', () => mesh.snapshot())   // what `meshcc peers --json` prints
 * // after `meshcc cert renew` (or ensurePersonalOrg renewed the certificate):
 * await mesh.reloadIdentity()
 * ```
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { NotJoinedError } from '../errors.ts'
import type { NodeIdentity } from '../identity/node-identity.ts'
import { loadNodeIdentity } from '../identity/node-identity.ts'
import { identityPaths } from '../identity/paths.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { identityCredentials } from './identity-credentials.ts'
import { IdentityRevocations } from './identity-revocations.ts'
import { startMesh } from './mesh-service.ts'
import type { Mesh, MeshInit } from './mesh-service.ts'
import { loadOrCreatePeerKey, peerKeyPath } from './node-key.ts'

export interface MeshFromHomeInit
  extends Omit<MeshInit, 'credentials' | 'privateKey' | 'revocations'> {
  /** Further organisation keys to trust besides the node's own anchor (key rotation). */
  extraTrustedOrgKeys?: readonly TrustedOrgKey[]
}

export interface HomeMesh extends Mesh {
  /** The node's current identity (certificate and trust anchor). */
  identity(): NodeIdentity
  /** Re-reads the certificate from disk (after renewal) and presents it on open connections. */
  reloadIdentity(): Promise<void>
}

export async function startMeshFromHome(init: MeshFromHomeInit): Promise<HomeMesh> {
  const { signal } = init
  const opts = signal === undefined ? {} : { signal }
  const privateKey = await loadOrCreatePeerKey(peerKeyPath(init.home), opts)
  const peerId = peerIdFromPrivateKey(privateKey)
  const paths = identityPaths(init.home)
  let identity = await loadNodeIdentity(paths, peerId)
  if (identity === undefined) {
    throw new NotJoinedError(`no node certificate in ${paths.nodeCert} for peer ${peerId}`)
  }
  const trusted = (): readonly TrustedOrgKey[] => [
    (identity as NodeIdentity).trustAnchor,
    ...(init.extraTrustedOrgKeys ?? []),
  ]
  const revocations = await IdentityRevocations.load(paths, trusted)
  const { extraTrustedOrgKeys: _extra, ...meshInit } = init
  const mesh = await startMesh({
    ...meshInit,
    privateKey,
    credentials: identityCredentials({
      identity: () => identity as NodeIdentity,
      trustedOrgKeys: trusted,
      crl: () => revocations.current(),
    }),
    revocations,
  })
  const watching = new AbortController()
  signal?.addEventListener('abort', () => watching.abort(), { once: true })
  revocations.watch(() => void mesh.revocationsChanged(), { signal: watching.signal })
  const stop = mesh.stop
  return Object.assign(mesh, {
    identity: () => identity as NodeIdentity,
    reloadIdentity: async () => {
      const fresh = await loadNodeIdentity(paths, peerId)
      if (fresh === undefined) throw new NotJoinedError(`${paths.nodeCert} disappeared`)
      identity = fresh
      await mesh.refresh()
    },
    stop: async () => {
      watching.abort()
      await stop()
    },
  })
}
