/**
 * Connection gater: refuses dials to, and connections from, peers in the deny cache. The earliest
 * point libp2p knows who the remote is, is right after the Noise handshake
 * (`deny*EncryptedConnection`), so that is where a refused peer is stopped on reconnect; the
 * first refusal itself happens in admission, after the certificate exchange.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { DenyCache } from './deny-cache.ts'

export function meshGater(denied: DenyCache): ConnectionGater {
  const deny = (peer: PeerId): boolean => denied.has(peer)
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
  }
}
