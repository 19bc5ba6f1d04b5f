/**
 * Organisation identity: org keys, node certificates, revocation lists and invitations.
 *
 * Pure, synchronous verification (`verifyCertificate`, `verifyCrl`, `decodeSignedInvitation`)
 * for the mesh's admission protocol and gossip validators; small async helpers for the files
 * under `$MESHCC_HOME/org` and `$MESHCC_HOME/identity`.
 *
 * @packageDocumentation
 * @example
 * ```ts
 * import { identityPaths, ensurePersonalOrg, verifyCertificate } from './identity/index.ts'
 * const paths = identityPaths(nodePaths().home)
 * const { identity } = await ensurePersonalOrg(paths, peerId)
 * const r = verifyCertificate(remoteCertBytes, {
 *   trustedOrgKeys: [identity.trustAnchor], expectedPeerId: connection.remotePeer, crl,
 * })
 * ```
 */
export {
  type Certificate,
  DEFAULT_CERT_TTL_SECONDS,
  decodeCertificate,
  encodeCertificate,
  type IssueOptions,
  issueCertificate,
  MAX_CERT_BYTES,
  MAX_CERT_TTL_SECONDS,
} from './certificate.ts'
export {
  type CrlResult,
  decodeCrl,
  isRevoked,
  MAX_CRL_BYTES,
  type RevocationList,
  type RevokeTarget,
  revoke,
  signCrl,
  verifyCrl,
} from './crl.ts'
export { loadCrl, saveCrl, type WatchCrlOptions, watchCrlFile } from './crl-store.ts'
export { parseDuration } from './duration.ts'
export {
  type CreateInvitationOptions,
  createInvitation,
  decodeSignedInvitation,
  type Invitation,
  invitationProof,
  MAX_INVITATION_BYTES,
  MAX_INVITATION_TTL_SECONDS,
  MAX_INVITATION_USES,
  parseInvitation,
  type SignedInvitation,
} from './invitation.ts'
export {
  InvitationLedger,
  type RedeemFailure,
  type RedeemOptions,
  type RedeemResult,
  redeemInvitation,
} from './invitation-ledger.ts'
export {
  type EnsureOptions,
  ensurePersonalOrg,
  loadNodeIdentity,
  type NodeIdentity,
  personalOrgName,
  saveNodeIdentity,
} from './node-identity.ts'
export {
  createOrg,
  formatOrgKey,
  loadOrg,
  loadOrgIfPresent,
  orgFromSecretKey,
  parseOrgKey,
} from './org-key.ts'
export { type IdentityPaths, identityPaths } from './paths.ts'
export { type PeerRef, peerIdStringFromSubject, peerMultihash } from './peer.ts'
export { type RenewOptions, type RenewResult, renewCertificate } from './renew.ts'
export {
  CLOCK_SKEW_SECONDS,
  type Org,
  ROLES,
  type Role,
  type TrustedOrgKey,
} from './types.ts'
export {
  type CertificateFailure,
  type CertificateResult,
  needsRenewal,
  type VerifyCertificateOptions,
  verifyCertificate,
} from './verify-certificate.ts'
