/**
 * Test fixtures for mesh tests: organisations and member credentials made with the real identity
 * module, in-process meshes over the libp2p memory transport, and polling helpers.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeCertificate, issueCertificate } from '../../src/identity/certificate.ts'
import type { RevocationList } from '../../src/identity/crl.ts'
import { orgFromSecretKey } from '../../src/identity/org-key.ts'
import type { Org, Role } from '../../src/identity/types.ts'
import { identityCredentials } from '../../src/mesh/identity-credentials.ts'
import { startMesh } from '../../src/mesh/mesh-service.ts'
import type { Mesh, MeshInit } from '../../src/mesh/mesh-service.ts'
import type { AdvertFields, AdvertSource, Credentials } from '../../src/mesh/types.ts'

export function testOrg(name = 'acme'): Org {
  return orgFromSecretKey(name, new Uint8Array(randomBytes(32)))
}

export interface MemberOptions {
  name?: string
  roles?: Role[]
  ttlSeconds?: number
  /** Start of validity (ms), to make expired certificates. */
  now?: number
  /** Issue the certificate for this peer instead (a stolen/borrowed certificate). */
  certFor?: PrivateKey
  /** Change the certificate bytes after signing. */
  tamper?: (bytes: Uint8Array) => Uint8Array
  /** Organisations whose keys this node trusts (default: the issuing org). */
  trust?: Org[]
  crl?: () => RevocationList | undefined
}

/** Credentials for `key` in `org`, verified with the real identity module. */
export function memberCredentials(org: Org, key: PrivateKey, o: MemberOptions = {}): Credentials {
  let certificate = issueCertificate(org, {
    peerId: peerIdFromPrivateKey(o.certFor ?? key),
    name: o.name ?? 'host',
    roles: o.roles ?? ['builder', 'client'],
    ...(o.ttlSeconds === undefined ? {} : { ttlSeconds: o.ttlSeconds }),
    ...(o.now === undefined ? {} : { now: o.now }),
  })
  const cert = decodeCertificate(certificate)
  if (cert === undefined) throw new Error('issued certificate does not decode')
  if (o.tamper !== undefined) certificate = o.tamper(certificate)
  const trusted = (o.trust ?? [org]).map((t) => ({ org: t.org, publicKey: t.publicKey }))
  return identityCredentials({
    identity: () => ({ certificate, cert }),
    trustedOrgKeys: () => trusted,
    ...(o.crl === undefined ? {} : { crl: o.crl }),
  })
}

/** Credentials that present `certificate` bytes but admit anyone (an outsider's node). */
export function outsiderCredentials(certificate: Uint8Array, inner?: Credentials): Credentials {
  return {
    certificate: () => certificate,
    self: () =>
      inner?.self() ?? {
        org: 'none',
        roles: [],
        groups: [],
        name: 'outsider',
        expiresAt: Date.now() + 3_600_000,
        serial: '00',
      },
    verify: () => ({
      ok: true,
      cert: {
        org: 'any',
        roles: [],
        groups: [],
        name: 'x',
        expiresAt: Date.now() + 1e6,
        serial: '0',
      },
    }),
  }
}

export function advertFields(over: Partial<AdvertFields> = {}): AdvertFields {
  return {
    host: 'test-host',
    platform: 'linux',
    arch: 'x64',
    cores: 4,
    freeSlots: 4,
    load: 0.1,
    queuedJobs: 0,
    speed: 1,
    toolchains: ['gcc-12-x86_64-linux-gnu'],
    ...over,
  }
}

export interface TestNode {
  mesh: Mesh
  key: PrivateKey
  home: string
  fields: AdvertFields
}

export interface TestMeshOptions {
  org?: Org
  /** Per-node overrides of startMesh options. */
  init?: Partial<MeshInit>
}

let counter = 0

/** Starts one node on the memory transport. `credentials` default to a member of `org`. */
export async function startMemoryNode(
  org: Org,
  opts: {
    key?: PrivateKey
    credentials?: (key: PrivateKey) => Credentials
    bootstrap?: string[]
    init?: Partial<MeshInit>
    fields?: Partial<AdvertFields>
  } = {},
): Promise<TestNode> {
  const key = opts.key ?? (await generateKeyPair('Ed25519'))
  const home = await mkdtemp(join(tmpdir(), 'meshcc-mesh-'))
  const fields = advertFields({ host: `node-${++counter}`, ...opts.fields })
  const source: AdvertSource = () => fields
  const mesh = await startMesh({
    home,
    privateKey: key,
    credentials: (opts.credentials ?? ((k) => memberCredentials(org, k, { name: fields.host })))(
      key,
    ),
    advertSource: source,
    transport: 'memory',
    listen: [`/memory/${peerIdFromPrivateKey(key).toString()}`],
    bootstrap: opts.bootstrap ?? [],
    advertIntervalMs: 500,
    discoveryIntervalMs: 1_000,
    pingIntervalMs: 1_000,
    ...opts.init,
  })
  return { mesh, key, home, fields }
}

export async function stopNode(n: TestNode): Promise<void> {
  await n.mesh.stop()
  await rm(n.home, { recursive: true, force: true })
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the value. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
