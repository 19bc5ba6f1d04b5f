/**
 * `meshcc org …`: create an organisation, invite machines, issue certificates for given peer
 * ids, revoke members, show the identity.
 *
 * `runOrgCommand(argv, io)` takes the arguments after `org` (a leading `org` is tolerated),
 * writes results to `io.stdout` and returns the exit code. Errors are thrown as MeshccError
 * subclasses (UnknownFlagError, UsageError, OrgNotFoundError, …) for the dispatcher to print.
 *
 * `org invite` prints the token alone on stdout so scripts can capture it:
 * `TOKEN=$(meshcc org invite --ttl 1h --uses 1)`. `org revoke` writes the new signed revocation
 * list to `$MESHCC_HOME/org/crl.bin`; a running daemon notices it (`watchCrlFile`) and spreads it.
 *
 * @example
 * ```ts
 * const code = await runOrgCommand(['invite', '--uses', '3'], { stdout, stderr, env: process.env })
 * ```
 */
import { nodePaths } from '../config/paths.ts'
import { IdentityFileError, UnknownFlagError, UsageError } from '../errors.ts'
import { decodeCertificate } from '../identity/certificate.ts'
import { type RevocationList, revoke, verifyCrl } from '../identity/crl.ts'
import { saveCrl } from '../identity/crl-store.ts'
import { parseDuration } from '../identity/duration.ts'
import { toHex } from '../identity/encoding.ts'
import { readIfExists } from '../identity/files.ts'
import { createInvitation, MAX_INVITATION_TTL_SECONDS } from '../identity/invitation.ts'
import { personalOrgName } from '../identity/node-identity.ts'
import { createOrg, loadOrg } from '../identity/org-key.ts'
import { type IdentityPaths, identityPaths } from '../identity/paths.ts'
import { peerIdStringFromSubject, peerMultihash } from '../identity/peer.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { iso, json, type OrgCommandIo, parseOrgArgs, rolesAndGroups } from './org-args.ts'
import { printOrgHelp } from './org-help.ts'
import { orgIssue } from './org-issue.ts'
import { orgShow } from './org-show.ts'

export type { OrgCommandIo, OrgMeshInfo, TextSink } from './org-args.ts'

async function init(args: string[], io: OrgCommandIo, paths: IdentityPaths): Promise<number> {
  const { values } = parseOrgArgs('init', args, { name: { type: 'string' } }, 0)
  if (values['help'] === true) return printOrgHelp(io, 'init')
  const name = (values['name'] as string | undefined) ?? personalOrgName()
  let org: Awaited<ReturnType<typeof createOrg>>
  try {
    org = await createOrg(name, paths, io.signal === undefined ? {} : { signal: io.signal })
  } catch (err) {
    if (err instanceof RangeError) {
      throw new UsageError(`meshcc org init: ${err.message}`, {
        hint: 'names use letters, digits, . _ - (at most 64)',
      })
    }
    throw err
  }
  const result = {
    org: org.org,
    orgId: org.orgId,
    fingerprint: toHex(org.issuer),
    keyFile: paths.orgKey,
    publicKeyFile: paths.orgPub,
  }
  if (values['json'] === true) json(io, result)
  else {
    io.stdout.write(
      `created organisation ${org.org}\n  id:          ${org.orgId}\n  fingerprint: ${result.fingerprint}\n` +
        `  key:         ${paths.orgKey} (keep it secret)\n` +
        'next: `meshcc join` on this machine, then `meshcc org invite` for the others\n',
    )
  }
  return 0
}

/** The peer id of this node if its certificate belongs to `org` (then it is the inviter). */
async function selfPeerIdIn(
  paths: IdentityPaths,
  orgPublicKeyHash: Uint8Array,
): Promise<string | undefined> {
  const bytes = await readIfExists(paths.nodeCert)
  const cert = bytes === undefined ? undefined : decodeCertificate(bytes)
  return cert !== undefined && toHex(cert.issuer) === toHex(orgPublicKeyHash)
    ? cert.peerId
    : undefined
}

async function invite(args: string[], io: OrgCommandIo, paths: IdentityPaths): Promise<number> {
  const { values } = parseOrgArgs(
    'invite',
    args,
    {
      ttl: { type: 'string' },
      uses: { type: 'string' },
      roles: { type: 'string' },
      groups: { type: 'string' },
      addr: { type: 'string', multiple: true },
    },
    0,
  )
  if (values['help'] === true) return printOrgHelp(io, 'invite')
  const usage = (message: string): UsageError =>
    new UsageError(`meshcc org invite: ${message}`, { hint: 'run `meshcc org invite --help`' })
  const ttlSeconds = parseDuration((values['ttl'] as string | undefined) ?? '1h')
  if (ttlSeconds === undefined || ttlSeconds > MAX_INVITATION_TTL_SECONDS) {
    throw usage('--ttl takes a duration such as 30m, 1h or 2d, at most 7d')
  }
  const usesText = (values['uses'] as string | undefined) ?? '1'
  const maxUses = /^\d{1,4}$/.test(usesText) ? Number(usesText) : 0
  if (maxUses < 1 || maxUses > 1000) throw usage('--uses takes a number from 1 to 1000')
  const { roles, groups } = rolesAndGroups(values, usage)
  const org = await loadOrg(paths)
  const live = await io.mesh
    ?.self(io.signal === undefined ? {} : { signal: io.signal })
    .catch(() => undefined)
  const addrs = [...((values['addr'] as string[] | undefined) ?? []), ...(live?.addrs ?? [])]
  const inviterPeerId = live?.peerId ?? (await selfPeerIdIn(paths, org.issuer))
  let created: ReturnType<typeof createInvitation>
  try {
    created = createInvitation(org, {
      ttlSeconds,
      maxUses,
      roles,
      groups,
      addrs: [...new Set(addrs)],
      ...(inviterPeerId === undefined ? {} : { inviterPeerId }),
    })
  } catch (err) {
    if (err instanceof RangeError) throw usage(err.message)
    throw err
  }
  const { token, invitation } = created
  if (values['json'] === true) {
    json(io, {
      token,
      id: invitation.id,
      org: org.org,
      orgId: org.orgId,
      expiresAt: iso(invitation.exp),
      maxUses,
      roles,
      groups,
      inviter: invitation.inviterPeerId ?? null,
      addrs: invitation.addrs,
    })
  } else {
    io.stdout.write(`${token}\n`)
    if (invitation.addrs.length === 0) {
      io.stderr.write(
        'note: the token carries no address of this node; pass --addr, or run it while the daemon is up\n',
      )
    }
  }
  return 0
}

async function currentCrl(
  paths: IdentityPaths,
  keys: readonly TrustedOrgKey[],
): Promise<RevocationList | undefined> {
  const bytes = await readIfExists(paths.crl)
  if (bytes === undefined) return undefined
  const result = verifyCrl(bytes, keys, 0)
  if (!result.ok) {
    throw new IdentityFileError(`${paths.crl} does not verify (${result.reason})`, {
      hint: 'restore it from another admin node: starting over would let members ignore new revocations',
    })
  }
  return result.crl
}

async function revokeCommand(
  args: string[],
  io: OrgCommandIo,
  paths: IdentityPaths,
): Promise<number> {
  const { values, positionals } = parseOrgArgs('revoke', args, {}, 1)
  if (values['help'] === true) return printOrgHelp(io, 'revoke')
  const target = positionals[0]
  if (target === undefined) {
    throw new UsageError('meshcc org revoke: name a peer id or a certificate serial', {
      hint: 'see `meshcc peers` for peer ids and `meshcc org show` for serials',
    })
  }
  const isSerial = /^[0-9a-fA-F]{32}$/.test(target)
  let peerId: string | undefined
  if (!isSerial) {
    try {
      peerId = peerIdStringFromSubject(peerMultihash(target))
    } catch {
      peerId = undefined
    }
    if (peerId === undefined) {
      throw new UsageError(
        `meshcc org revoke: ${JSON.stringify(target)} is neither a peer id nor a serial`,
        {
          hint: 'a serial is 32 hex digits; peer ids look like 12D3KooW…',
        },
      )
    }
  }
  const org = await loadOrg(paths)
  const current = await currentCrl(paths, [org])
  const before = current?.seq ?? 0
  const next = revoke(
    org,
    current,
    isSerial ? { serial: target.toLowerCase() } : { peerId: peerId as string },
  )
  const already =
    current !== undefined &&
    next.revokedSerials.size === current.revokedSerials.size &&
    next.revokedSubjects.size === current.revokedSubjects.size
  if (!already)
    await saveCrl(paths, next, [org], io.signal === undefined ? {} : { signal: io.signal })
  const seq = already ? before : next.seq
  const what = isSerial ? { serial: target.toLowerCase() } : { peerId }
  if (values['json'] === true)
    json(io, { revoked: what, alreadyRevoked: already, seq, crlFile: paths.crl })
  else {
    const label = isSerial ? `certificate ${target.toLowerCase()}` : `peer ${peerId}`
    io.stdout.write(
      already
        ? `${label} was already revoked (revocation list seq ${seq})\n`
        : `revoked ${label}: revocation list seq ${seq} written to ${paths.crl}\n` +
            'a running daemon spreads it to the mesh; members then disconnect the peer\n',
    )
  }
  return 0
}

/** Runs `meshcc org <argv…>`; returns the exit code, throws MeshccError on failure. */
export async function runOrgCommand(argv: string[], io: OrgCommandIo): Promise<number> {
  const args = argv[0] === 'org' ? argv.slice(1) : argv
  const [sub, ...rest] = args
  const paths = identityPaths(nodePaths(io.env).home)
  switch (sub) {
    case 'init':
      return init(rest, io, paths)
    case 'invite':
      return invite(rest, io, paths)
    case 'revoke':
      return revokeCommand(rest, io, paths)
    case 'issue':
      return orgIssue(rest, io, paths)
    case 'show':
      return orgShow(rest, io, paths)
    case '--help':
    case '-h':
    case 'help':
      return printOrgHelp(io, rest[0])
    case undefined:
      throw new UsageError('meshcc org: missing command', { hint: 'run `meshcc org --help`' })
    default:
      if (sub.startsWith('-')) throw new UnknownFlagError(`meshcc org: unknown option ${sub}`)
      throw new UsageError(`meshcc org: unknown command ${JSON.stringify(sub)}`, {
        hint: 'run `meshcc org --help`',
      })
  }
}
