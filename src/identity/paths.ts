/**
 * Where identity state lives under `MESHCC_HOME`.
 *
 * `org/` exists on machines that hold an organisation key (admins) and on every member for the
 * revocation list; `identity/` holds this node's certificate and the organisation key it trusts.
 */
import { join } from 'node:path'

export interface IdentityPaths {
  /** Organisation directory (0700). */
  orgDir: string
  /** Organisation secret key, `<name>:<base64url seed>` (0600). */
  orgKey: string
  /** Organisation public identity, `<name>:<base64url public key>`. */
  orgPub: string
  /** Latest verified revocation list (signed envelope). */
  crl: string
  /** Invitation use counts (admin nodes). */
  invitations: string
  /** Node identity directory (0700). */
  identityDir: string
  /** This node's certificate (signed envelope). */
  nodeCert: string
  /** The organisation public key this node's certificate chains to, `<name>:<base64url>`. */
  trustAnchor: string
  /** The node's libp2p peer key. Owned by the mesh node; listed here so all identity files sit together. */
  peerKey: string
}

/** Identity paths for a node home (`nodePaths(env).home`). */
export function identityPaths(home: string): IdentityPaths {
  const orgDir = join(home, 'org')
  const identityDir = join(home, 'identity')
  return {
    orgDir,
    orgKey: join(orgDir, 'org.key'),
    orgPub: join(orgDir, 'org.pub'),
    crl: join(orgDir, 'crl.bin'),
    invitations: join(orgDir, 'invitations.json'),
    identityDir,
    nodeCert: join(identityDir, 'node.cert'),
    trustAnchor: join(identityDir, 'ca.pub'),
    peerKey: join(identityDir, 'peer.key'),
  }
}
