/**
 * `meshcc org issue --peer ID [--name LABEL] [--roles LIST] [--groups LIST] [--ttl 14d]
 * [--out FILE] [--json]`: signs a certificate for a given peer id with the organisation key on
 * this machine, for machines that join without reaching the admin node (`meshcc join --cert
 * FILE --ca org.pub`): provisioning scripts, air-gapped offices. The joining machine learns its
 * peer id with `meshcc org show`.
 *
 * Without `--out` the certificate's base64url text is printed alone on stdout (so scripts can
 * capture it); with `--out` the raw certificate is written to FILE (mode 0644: it is no secret,
 * being bound to one peer id). Either form is accepted by `meshcc join --cert`.
 */

import { UsageError } from '../errors.ts'
import {
  decodeCertificate,
  issueCertificate,
  MAX_CERT_TTL_SECONDS,
} from '../identity/certificate.ts'
import { formatCertificateText } from '../identity/certificate-file.ts'
import { parseDuration } from '../identity/duration.ts'
import { writeFileAtomic } from '../identity/files.ts'
import { loadOrg } from '../identity/org-key.ts'
import type { IdentityPaths } from '../identity/paths.ts'
import { peerIdStringFromSubject, peerMultihash } from '../identity/peer.ts'
import { CLOCK_SKEW_SECONDS } from '../identity/types.ts'
import { iso, json, type OrgCommandIo, parseOrgArgs, rolesAndGroups } from './org-args.ts'
import { printOrgHelp } from './org-help.ts'

export async function orgIssue(
  args: string[],
  io: OrgCommandIo,
  paths: IdentityPaths,
): Promise<number> {
  const { values } = parseOrgArgs(
    'issue',
    args,
    {
      peer: { type: 'string' },
      name: { type: 'string' },
      roles: { type: 'string' },
      groups: { type: 'string' },
      ttl: { type: 'string' },
      out: { type: 'string' },
    },
    0,
  )
  if (values['help'] === true) return printOrgHelp(io, 'issue')
  const usage = (message: string): UsageError =>
    new UsageError(`meshcc org issue: ${message}`, { hint: 'run `meshcc org issue --help`' })
  const peerText = values['peer'] as string | undefined
  if (peerText === undefined) {
    throw usage('--peer ID is required (the joining machine prints it with `meshcc org show`)')
  }
  let peerId: string | undefined
  try {
    peerId = peerIdStringFromSubject(peerMultihash(peerText))
  } catch {
    peerId = undefined
  }
  if (peerId === undefined) {
    throw usage(`${JSON.stringify(peerText)} is not an Ed25519 peer id (they look like 12D3KooW…)`)
  }
  const ttlSeconds = parseDuration((values['ttl'] as string | undefined) ?? '14d')
  if (ttlSeconds === undefined || ttlSeconds > MAX_CERT_TTL_SECONDS) {
    throw usage('--ttl takes a duration such as 12h, 14d or 30d, at most 366d')
  }
  if (ttlSeconds <= CLOCK_SKEW_SECONDS) {
    io.stderr.write(
      `note: a ${ttlSeconds}s certificate is shorter than the ${CLOCK_SKEW_SECONDS}s clock skew members allow\n`,
    )
  }
  const { roles, groups } = rolesAndGroups(values, usage)
  const org = await loadOrg(paths)
  let certificate: Uint8Array
  try {
    certificate = issueCertificate(org, {
      peerId,
      name: (values['name'] as string | undefined) ?? peerId,
      roles,
      groups,
      ttlSeconds,
    })
  } catch (err) {
    if (err instanceof RangeError) throw usage(err.message)
    throw err
  }
  const cert = decodeCertificate(certificate)
  if (cert === undefined) throw new Error('issued a certificate that does not decode')
  const out = values['out'] as string | undefined
  if (out !== undefined) {
    await writeFileAtomic(out, certificate, {
      mode: 0o644,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    })
  }
  const text = formatCertificateText(certificate)
  if (values['json'] === true) {
    json(io, {
      peerId,
      org: org.org,
      orgId: org.orgId,
      name: cert.name,
      roles: cert.roles,
      groups: cert.groups,
      serial: cert.serial,
      notBefore: iso(cert.nbf),
      expiresAt: iso(cert.exp),
      file: out ?? null,
      certificate: text,
    })
  } else if (out === undefined) io.stdout.write(`${text}\n`)
  else {
    io.stdout.write(
      `issued certificate ${cert.serial} for ${peerId} (${cert.roles.join(', ')}), valid until ${iso(cert.exp)}\n` +
        `  written to ${out}\n` +
        `on that machine: meshcc join --cert ${out} --ca ${paths.orgPub} --bootstrap <address of a member>\n`,
    )
  }
  return 0
}
