/**
 * `meshcc org show`: this node's peer id, the organisation this machine administers, this
 * node's certificate and trust anchor, and the revocation list, as text or `--json`
 * (`{ peerId, org, node, crl }`, the last three null when absent). The peer key is created if
 * the node has none yet, so a machine can tell an admin its peer id before it joins
 * (`meshcc org issue --peer ID`).
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeCertificate } from '../identity/certificate.ts'
import { verifyCrl } from '../identity/crl.ts'
import { fromBase64Url, toHex } from '../identity/encoding.ts'
import { readIfExists } from '../identity/files.ts'
import { loadOrgIfPresent, parseOrgKey } from '../identity/org-key.ts'
import type { IdentityPaths } from '../identity/paths.ts'
import { peerIdStringFromSubject } from '../identity/peer.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { verifyCertificate } from '../identity/verify-certificate.ts'
import { loadOrCreatePeerKey } from '../mesh/node-key.ts'
import { iso, json, type OrgCommandIo, parseOrgArgs } from './org-args.ts'
import { printOrgHelp } from './org-help.ts'

export async function orgShow(
  args: string[],
  io: OrgCommandIo,
  paths: IdentityPaths,
): Promise<number> {
  const { values } = parseOrgArgs('show', args, {}, 0)
  if (values['help'] === true) return printOrgHelp(io, 'show')
  const peerId = peerIdFromPrivateKey(
    await loadOrCreatePeerKey(paths.peerKey, io.signal === undefined ? {} : { signal: io.signal }),
  ).toString()
  const org = await loadOrgIfPresent(paths)
  const anchorText = await readIfExists(paths.trustAnchor)
  let anchor: TrustedOrgKey | undefined
  try {
    anchor =
      anchorText === undefined ? undefined : parseOrgKey(new TextDecoder().decode(anchorText))
  } catch {
    anchor = undefined
  }
  const keys = [...(org === undefined ? [] : [org]), ...(anchor === undefined ? [] : [anchor])]
  const crlBytes = await readIfExists(paths.crl)
  const crlResult = crlBytes === undefined ? undefined : verifyCrl(crlBytes, keys, 0)
  const crl = crlResult?.ok === true ? crlResult.crl : undefined
  const certBytes = await readIfExists(paths.nodeCert)
  const cert = certBytes === undefined ? undefined : decodeCertificate(certBytes)
  let status: string | undefined
  if (certBytes !== undefined) {
    if (cert === undefined) status = 'malformed'
    else {
      const r = verifyCertificate(certBytes, {
        trustedOrgKeys: keys,
        expectedPeerId: cert.subject,
        crl,
      })
      status = r.ok ? 'valid' : r.reason
    }
  }
  const result = {
    peerId,
    org:
      org === undefined
        ? null
        : {
            name: org.org,
            orgId: org.orgId,
            fingerprint: toHex(org.issuer),
            keyFile: paths.orgKey,
          },
    node:
      cert === undefined
        ? certBytes === undefined
          ? null
          : { status }
        : {
            peerId: cert.peerId,
            name: cert.name,
            org: cert.org,
            roles: cert.roles,
            groups: cert.groups,
            serial: cert.serial,
            notBefore: iso(cert.nbf),
            expiresAt: iso(cert.exp),
            status,
            trustAnchor:
              anchorText === undefined ? null : new TextDecoder().decode(anchorText).trim(),
          },
    crl:
      crl === undefined
        ? crlBytes === undefined
          ? null
          : { status: crlResult?.ok === false ? crlResult.reason : 'unverified' }
        : {
            seq: crl.seq,
            issuedAt: iso(crl.issuedAt),
            revokedSerials: [...crl.revokedSerials],
            revokedPeers: [...crl.revokedSubjects].map(
              (s) => peerIdStringFromSubject(fromBase64Url(s) ?? new Uint8Array()) ?? s,
            ),
          },
  }
  if (values['json'] === true) {
    json(io, result)
    return 0
  }
  const lines: string[] = [`this node: peer id ${peerId}`]
  if (result.org === null) lines.push('organisation: none held on this machine')
  else
    lines.push(
      `organisation: ${result.org.name}`,
      `  id:          ${result.org.orgId}`,
      `  fingerprint: ${result.org.fingerprint}`,
    )
  if (certBytes === undefined) lines.push('node certificate: none (run `meshcc join`)')
  else if (cert === undefined) lines.push(`node certificate: ${status}`)
  else {
    lines.push(
      `node certificate: ${status}`,
      `  peer id:     ${cert.peerId}`,
      `  name:        ${cert.name}`,
      `  org:         ${cert.org}`,
      `  roles:       ${cert.roles.join(', ')}`,
      `  groups:      ${cert.groups.join(', ') || '-'}`,
      `  serial:      ${cert.serial}`,
      `  valid:       ${iso(cert.nbf)} .. ${iso(cert.exp)}`,
    )
  }
  const c = result.crl
  if (c === null) lines.push('revocation list: none')
  else if (crl === undefined) lines.push(`revocation list: ${'status' in c ? c.status : 'invalid'}`)
  else {
    lines.push(`revocation list: seq ${crl.seq}, issued ${iso(crl.issuedAt)}`)
    for (const p of 'revokedPeers' in c ? c.revokedPeers : []) lines.push(`  peer   ${p}`)
    for (const serial of crl.revokedSerials) lines.push(`  serial ${serial}`)
  }
  io.stdout.write(`${lines.join('\n')}\n`)
  return 0
}
