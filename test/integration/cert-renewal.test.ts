/**
 * Certificate renewal over the mesh, with the daemon's real mesh host (`MeshHost`) in this
 * process, three homes on loopback TCP: A holds the organisation key and issues 12-second
 * certificates; B and C are members with such certificates. B's certificate is renewed by A
 * over `/meshcc/renew/1.0.0` once two thirds of its lifetime have passed, stored in B's home,
 * and re-presented to A; C, revoked on A, is never renewed and records why.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { nodePaths } from '../../src/config/paths.ts'
import { createLogger } from '../../src/daemon/logger.ts'
import { MeshHost } from '../../src/daemon/mesh-host.ts'
import { writeMeshSettings } from '../../src/daemon/mesh-settings.ts'
import { decodeCertificate, issueCertificate } from '../../src/identity/certificate.ts'
import { revoke } from '../../src/identity/crl.ts'
import { saveCrl } from '../../src/identity/crl-store.ts'
import { ensurePersonalOrg, saveNodeIdentity } from '../../src/identity/node-identity.ts'
import { loadOrg } from '../../src/identity/org-key.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import { verifyCertificate } from '../../src/identity/verify-certificate.ts'
import { loadOrCreatePeerKey, peerKeyPath } from '../../src/mesh/node-key.ts'
import { readRenewalState } from '../../src/renewal/state.ts'
import { waitFor } from '../helpers/mesh.ts'

const TTL = 12
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

interface Node {
  home: string
  peerId: string
  host: MeshHost
  lines: Array<Record<string, unknown>>
}

async function makeNode(
  dir: string,
  name: string,
  cert: ((peerId: string) => Promise<void>) | undefined,
  bootstrap: string[],
): Promise<Node> {
  const home = join(dir, name)
  const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(peerKeyPath(home))).toString()
  await cert?.(peerId)
  const paths = nodePaths({ MESHCC_HOME: home })
  await writeMeshSettings(paths, { joined: true, listen: LISTEN, bootstrap, mdns: false })
  const lines: Array<Record<string, unknown>> = []
  const host = new MeshHost({
    paths,
    log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) }),
    running: () => 0,
    certTtlSeconds: TTL,
    renewCheckMs: 1_000,
    renewRetryMs: 300,
    env: {},
  })
  await host.start()
  return { home, peerId, host, lines }
}

async function certOf(home: string) {
  const cert = decodeCertificate(new Uint8Array(await readFile(identityPaths(home).nodeCert)))
  assert.ok(cert !== undefined)
  return cert
}

describe('certificate renewal over the mesh', () => {
  let dir: string
  let a: Node
  let b: Node
  let c: Node
  const nodes: Node[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-renew-'))
    const aHome = join(dir, 'a')
    const aKey = await loadOrCreatePeerKey(peerKeyPath(aHome))
    // A holds the organisation key (a personal organisation, as a first `meshcc join` makes).
    await ensurePersonalOrg(identityPaths(aHome), peerIdFromPrivateKey(aKey), {
      orgName: 'acme',
      name: 'a',
      certTtlSeconds: 3600,
    })
    a = await makeNode(dir, 'a', undefined, [])
    nodes.push(a)
    const org = await loadOrg(identityPaths(aHome))
    const member = (label: string) => async (peerId: string) => {
      const certificate = issueCertificate(org, {
        peerId,
        name: label,
        roles: ['builder', 'client'],
        groups: ['ci'],
        ttlSeconds: TTL,
      })
      await saveNodeIdentity(identityPaths(join(dir, label)), {
        certificate,
        trustAnchor: { org: org.org, publicKey: org.publicKey },
      })
    }
    const addrs = a.host.self().addrs
    ;[b, c] = await Promise.all([
      makeNode(dir, 'b', member('b'), addrs),
      makeNode(dir, 'c', member('c'), addrs),
    ])
    nodes.push(b, c)
  })

  after(async () => {
    await Promise.all(nodes.map((n) => n.host.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  it('members are admitted with their short certificates, and C is revoked on A', async () => {
    await waitFor(
      () => {
        const peers = a.host.snapshot().peers
        return [b, c].every((n) => peers.some((p) => p.peerId === n.peerId && p.connected))
      },
      { what: 'B and C admitted by A' },
    )
    const org = await loadOrg(identityPaths(a.home))
    await saveCrl(identityPaths(a.home), revoke(org, undefined, { peerId: c.peerId }), [org])
    await waitFor(
      () => !a.host.snapshot().peers.some((p) => p.peerId === c.peerId && p.connected),
      { what: 'C cut off by A' },
    )
  })

  it("renews B's certificate from A before it expires, stores it and re-presents it", async () => {
    const first = await certOf(b.home)
    const renewed = await waitFor(
      async () => {
        const now = await certOf(b.home)
        return now.serial !== first.serial ? now : undefined
      },
      { timeoutMs: 20_000, what: "B's certificate renewed" },
    )
    // Two thirds of the lifetime had passed, and the old one had not expired.
    const renewedAt = renewed.nbf
    assert.ok(
      renewedAt >= first.nbf + Math.floor((TTL * 2) / 3) - 1,
      `${renewedAt} vs ${first.nbf}`,
    )
    assert.ok(renewedAt <= first.exp)
    assert.ok(renewed.exp > first.exp)
    // Same name, roles and groups; valid for B, signed by A's organisation.
    assert.deepEqual(
      [renewed.name, renewed.roles, renewed.groups],
      [first.name, first.roles, first.groups],
    )
    const org = await loadOrg(identityPaths(a.home))
    const v = verifyCertificate(renewed.bytes, { trustedOrgKeys: [org], expectedPeerId: b.peerId })
    assert.equal(v.ok, true)
    // A now holds B's new certificate: B presented it again on the open connection.
    await waitFor(
      () =>
        a.host
          .snapshot()
          .peers.some(
            (p) => p.peerId === b.peerId && p.connected && p.certExpiry === renewed.exp * 1000,
          ),
      { what: 'A sees the renewed certificate' },
    )
    assert.equal(b.host.snapshot().self.certExpiry, renewed.exp * 1000)
    // The state file is written after the certificate is stored and presented (a busy machine
    // may show the new certificate to A first).
    const state = await waitFor(
      async () => {
        const s = await readRenewalState(b.home)
        return s?.renewedBy === a.peerId ? s : undefined
      },
      { what: 'renewal state recorded' },
    )
    assert.equal(state.failures, 0)
    assert.ok(b.lines.some((l) => l['msg'] === 'certificate renewed' && l['by'] === a.peerId))
    assert.ok(
      a.lines.some((l) => l['msg'] === 'renewed a member certificate' && l['peer'] === b.peerId),
    )
  })

  it('never renews the revoked member C, which records and logs why', async () => {
    const first = await certOf(c.home)
    const state = await waitFor(
      async () => {
        const s = await readRenewalState(c.home)
        return s !== undefined && s.failures >= 2 ? s : undefined
      },
      { timeoutMs: 20_000, what: 'C failing to renew' },
    )
    assert.equal(state.lastSuccessAt, null)
    assert.ok(state.lastError !== null)
    assert.equal((await certOf(c.home)).serial, first.serial)
    assert.ok(c.lines.some((l) => l['msg'] === 'certificate renewal failed; will retry'))
    assert.ok(
      !a.lines.some((l) => l['msg'] === 'renewed a member certificate' && l['peer'] === c.peerId),
    )
  })
})
