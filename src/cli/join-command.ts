/**
 * `meshcc join [--invite TOKEN | --cert FILE [--ca FILE]] [--foreground] [--bootstrap ADDR …]
 * [--listen ADDR …] [--psk FILE] [--mdns | --no-mdns] [--name LABEL] [--json]`: makes this node a
 * member of a mesh.
 *
 * 1. Identity. `--invite`: the token's inviting node issues a certificate over
 *    `/meshcc/enroll/1.0.0` (see `src/enroll/`). `--cert`: a certificate file made elsewhere, with
 *    the organisation's public key (`--ca`, or the one this node already trusts). Neither: the
 *    node keeps a valid certificate it has, or gets one from the organisation key this machine
 *    holds, or — on a machine with neither — a new personal organisation is created, so one
 *    person starts a mesh with one command.
 * 2. Settings: listen and bootstrap addresses, mDNS, the private-network key file, and
 *    `joined = true`, in `$MESHCC_HOME/mesh.toml`; every later daemon start hosts the mesh.
 * 3. The daemon: `--foreground` runs it here (log lines also on stderr) until stopped;
 *    otherwise the running daemon is told to (re)start its mesh, or a detached one is started,
 *    and the command waits until the mesh is up.
 *
 * @example
 * ```sh
 * meshcc join                                   # first machine: personal organisation
 * meshcc join --invite "$TOKEN"                 # other machines
 * ```
 */
import { mkdir, readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { NodePaths } from '../config/paths.ts'
import type { MeshSelf } from '../daemon/control.ts'
import { type MeshSettings, readMeshSettings, writeMeshSettings } from '../daemon/mesh-settings.ts'
import { enroll } from '../enroll/client.ts'
import {
  CertificateRejectedError,
  DaemonCommandError,
  DaemonUnavailableError,
  IdentityFileError,
  UsageError,
} from '../errors.ts'
import { type Certificate, decodeCertificate } from '../identity/certificate.ts'
import { parseCertificateFile } from '../identity/certificate-file.ts'
import { parseInvitation } from '../identity/invitation.ts'
import { ensurePersonalOrg, saveNodeIdentity } from '../identity/node-identity.ts'
import { parseOrgKey } from '../identity/org-key.ts'
import { type IdentityPaths, identityPaths } from '../identity/paths.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { type CertificateFailure, verifyCertificate } from '../identity/verify-certificate.ts'
import { loadOrCreatePeerKey, peerKeyPath } from '../mesh/node-key.ts'
import { parseCommand } from './args.ts'
import { controlRequest } from './control-client.ts'
import { commandHelp } from './help.ts'
import { type Output, printJson } from './output.ts'
import { spawnDetachedDaemon } from './spawn-daemon.ts'

const MESH_START_TIMEOUT_MS = 20_000

type Created = 'org' | 'certificate' | 'renewed' | 'invitation' | 'certificate-file' | false

export async function joinCommand(args: string[], o: Output, paths: NodePaths): Promise<number> {
  const { values } = parseCommand(
    'join',
    args,
    {
      invite: { type: 'string' },
      cert: { type: 'string' },
      ca: { type: 'string' },
      foreground: { type: 'boolean' },
      bootstrap: { type: 'string', multiple: true },
      listen: { type: 'string', multiple: true },
      psk: { type: 'string' },
      mdns: { type: 'boolean' },
      'no-mdns': { type: 'boolean' },
      name: { type: 'string' },
    },
    0,
  )
  if (values.help) {
    o.out(commandHelp['join']!)
    return 0
  }
  const invite = values.invite as string | undefined
  const certFile = values.cert as string | undefined
  const bootstrap = (values.bootstrap as string[] | undefined) ?? []
  const listen = values.listen as string[] | undefined
  if (invite !== undefined && certFile !== undefined) {
    throw new UsageError('meshcc join: --invite and --cert exclude each other')
  }
  if (values.ca !== undefined && certFile === undefined) {
    throw new UsageError('meshcc join: --ca only goes with --cert')
  }
  if (values.mdns && values['no-mdns']) {
    throw new UsageError('meshcc join: --mdns and --no-mdns exclude each other')
  }
  for (const a of [...bootstrap, ...(listen ?? [])]) {
    if (!a.startsWith('/')) {
      throw new UsageError(`meshcc join: ${JSON.stringify(a)} is not a multiaddr`, {
        hint: 'addresses look like /ip4/192.168.1.5/tcp/7341 (with /p2p/<peer id> for --bootstrap)',
      })
    }
  }
  // A bad or expired token fails here, before anything is created.
  const invitation = invite === undefined ? undefined : parseInvitation(invite)
  const running = await daemonRunning(paths)
  if (values.foreground && running) {
    throw new UsageError('meshcc join --foreground: a daemon already runs for this MESHCC_HOME', {
      hint: 'stop it first (`meshcc daemon stop`), or join without --foreground',
    })
  }

  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const ids = identityPaths(paths.home)
  const key = await loadOrCreatePeerKey(peerKeyPath(paths.home))
  const peerId = peerIdFromPrivateKey(key)
  const previous = readMeshSettings(paths)
  const pskFile = (values.psk as string | undefined) ?? previous.pskFile
  let psk: Uint8Array | undefined
  if (pskFile !== undefined) {
    try {
      psk = new Uint8Array(await readFile(pskFile))
    } catch (err) {
      throw new UsageError(`meshcc join: cannot read the private-network key ${pskFile}`, {
        cause: err,
        hint: 'the file holds the 95-byte libp2p key (/key/swarm/psk/1.0.0/ …)',
      })
    }
  }
  const name = (values.name as string | undefined) ?? (hostname() || 'node')

  let org: string
  let created: Created
  let joinAddrs: string[] = []
  if (invitation !== undefined) {
    const enrolled = await enroll({
      invitation,
      privateKey: key,
      name,
      extraAddrs: bootstrap,
      ...(psk === undefined ? {} : { psk }),
    })
    await saveNodeIdentity(ids, {
      certificate: enrolled.certificate,
      trustAnchor: invitation.orgKey,
    })
    org = invitation.orgKey.org
    created = 'invitation'
    joinAddrs = invitation.addrs.map((a) =>
      invitation.inviterPeerId !== undefined && !a.includes('/p2p/')
        ? `${a}/p2p/${invitation.inviterPeerId}`
        : a,
    )
  } else if (certFile !== undefined) {
    org = await installCertificate(ids, certFile, values.ca as string | undefined, peerId)
    created = 'certificate-file'
  } else {
    const r = await ensurePersonalOrg(ids, peerId, { name })
    org = r.identity.cert.org
    created = r.created
  }

  const settings: MeshSettings = {
    joined: true,
    listen: listen ?? previous.listen,
    bootstrap:
      invitation !== undefined || bootstrap.length > 0
        ? [...new Set([...bootstrap, ...joinAddrs])]
        : previous.bootstrap,
    mdns: values['no-mdns'] ? false : values.mdns ? true : previous.mdns,
    ...(pskFile === undefined ? {} : { pskFile }),
  }
  await writeMeshSettings(paths, settings)

  const summary = { joined: true, org, peerId: peerId.toString(), created }
  if (values.foreground) {
    o.err(describe(summary, undefined))
    const { runDaemon } = await import('../daemon/run.ts')
    return await runDaemon({ stderr: true })
  }
  const self = running ? await restartMesh(paths) : await startDaemonWithMesh(paths)
  if (o.json) printJson(o, { ...summary, addrs: self.addrs, settings })
  else o.out(describe(summary, self))
  return 0
}

function describe(
  s: { org: string; peerId: string; created: Created },
  self: MeshSelf | undefined,
): string {
  const how: Record<string, string> = {
    org: ` (created the personal organisation ${s.org})`,
    certificate: ` (issued a certificate with this machine's organisation key)`,
    renewed: ' (renewed the certificate)',
    invitation: ' (certificate issued by the inviting node)',
    'certificate-file': ' (certificate from file)',
  }
  const lines = [`joined organisation ${s.org} as ${s.peerId}${how[String(s.created)] ?? ''}`]
  if (self !== undefined) for (const a of self.addrs) lines.push(`  listening on ${a}`)
  if (s.created === 'org' || s.created === 'certificate') {
    lines.push(
      'to add another machine: run `meshcc org invite` here, then on that machine',
      '  meshcc join --invite TOKEN',
    )
  }
  return lines.join('\n')
}

/** Verifies a certificate file for this node against the organisation key, then installs both. */
async function installCertificate(
  ids: IdentityPaths,
  certFile: string,
  caFile: string | undefined,
  peerId: ReturnType<typeof peerIdFromPrivateKey>,
): Promise<string> {
  const read = async (file: string, what: string): Promise<Uint8Array> => {
    try {
      return new Uint8Array(await readFile(file))
    } catch (err) {
      throw new UsageError(`meshcc join: cannot read ${what} ${file}`, {
        cause: err,
        hint:
          caFile === undefined && file === ids.trustAnchor
            ? 'pass --ca FILE with the organisation key (`org.pub` on the admin node)'
            : 'check the path',
      })
    }
  }
  const contents = await read(certFile, 'the certificate')
  const anchorFile = caFile ?? ids.trustAnchor
  let anchor: TrustedOrgKey
  try {
    anchor = parseOrgKey(new TextDecoder().decode(await read(anchorFile, 'the organisation key')))
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new IdentityFileError(`${anchorFile} is not an organisation public key`, {
      cause: err,
      hint: 'pass --ca FILE with the organisation key (`org.pub` on the admin node: name:base64url)',
    })
  }
  const certificate = parseCertificateFile(contents)
  const r =
    certificate === undefined
      ? ({ ok: false, reason: 'malformed' } as const)
      : verifyCertificate(certificate, { trustedOrgKeys: [anchor], expectedPeerId: peerId })
  if (!r.ok) {
    const cert = certificate === undefined ? undefined : decodeCertificate(certificate)
    throw certificateRefusal(r.reason, { certFile, anchorFile, anchor, cert, peerId: `${peerId}` })
  }
  await saveNodeIdentity(ids, { certificate: r.cert.bytes, trustAnchor: anchor })
  return r.cert.org
}

/** A refused certificate file, with what is wrong in words and what to do about it. */
function certificateRefusal(
  reason: CertificateFailure,
  c: {
    certFile: string
    anchorFile: string
    anchor: TrustedOrgKey
    cert: Certificate | undefined
    peerId: string
  },
): CertificateRejectedError {
  const fresh = `ask an admin for a certificate for this node: \`meshcc org issue --peer ${c.peerId}\``
  const when = (unix: number | undefined) =>
    unix === undefined ? '?' : new Date(unix * 1000).toISOString()
  const texts: Record<string, [string, string]> = {
    'subject-mismatch': [
      `is for peer ${c.cert?.peerId ?? '?'}, not for this node (${c.peerId})`,
      fresh,
    ],
    'wrong-org': [
      `is issued by organisation ${c.cert?.org ?? '?'}, not by ${c.anchor.org} (the key in ${c.anchorFile})`,
      'pass --ca with the org.pub of the organisation that issued it, or ask an admin of yours for one',
    ],
    expired: [`expired at ${when(c.cert?.exp)}`, fresh],
    'not-yet-valid': [
      `is valid only from ${when(c.cert?.nbf)}`,
      "check this machine's clock, or wait until then",
    ],
    'bad-signature': [
      'does not carry a valid signature of the organisation (damaged or forged)',
      fresh,
    ],
    malformed: ['is not a meshcc certificate', `${fresh}; pass the file it writes with --out`],
  }
  const [what, hint] = texts[reason] ?? [`is ${reason}`, fresh]
  return Object.assign(
    new CertificateRejectedError(`meshcc join: ${c.certFile} ${what}`, { hint }),
    { reason },
  )
}

async function daemonRunning(paths: NodePaths): Promise<boolean> {
  try {
    await controlRequest(paths, 'status', { timeoutMs: 3000 })
    return true
  } catch (err) {
    if (err instanceof DaemonUnavailableError) return false
    throw err
  }
}

async function restartMesh(paths: NodePaths): Promise<MeshSelf> {
  const reply = await controlRequest(paths, 'mesh-start', { timeoutMs: MESH_START_TIMEOUT_MS })
  return reply['self'] as MeshSelf
}

/** Starts a detached daemon (it starts the mesh, being joined) and waits until the mesh is up. */
async function startDaemonWithMesh(paths: NodePaths): Promise<MeshSelf> {
  spawnDetachedDaemon(paths.home)
  const deadline = Date.now() + MESH_START_TIMEOUT_MS
  let last: unknown
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    try {
      return (await controlRequest(paths, 'mesh-self', { timeoutMs: 3000 }))['self'] as MeshSelf
    } catch (err) {
      // Absent: still starting. Refused: up, the mesh not yet (or it failed: keep the reason).
      if (!(err instanceof DaemonUnavailableError || err instanceof DaemonCommandError)) throw err
      last = err
    }
  }
  throw new DaemonUnavailableError(
    `the daemon's mesh did not come up within ${MESH_START_TIMEOUT_MS / 1000} s` +
      (last instanceof DaemonCommandError ? `: ${last.message}` : ''),
    { hint: `see ${paths.logDir}/daemon.log` },
  )
}
