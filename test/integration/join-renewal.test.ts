/**
 * Renewal over the mesh between real daemons (separate processes and homes, loopback TCP),
 * configured through the environment as an operator would: `MESHCC_CERT_TTL=15s` makes the key
 * holder issue 15-second certificates and `MESHCC_RENEW_CHECK=1s` makes both daemons check
 * every second. A member joined by invitation gets its certificate renewed by the key holder
 * before it expires, stays admitted, and `meshcc doctor` reports the renewal. Needs the build.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { decodeCertificate } from '../../src/identity/certificate.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import { type JoinedNode, joinedNode, sees } from '../helpers/joined-node.ts'
import { waitFor } from '../helpers/mesh.ts'
import { repoRoot } from '../helpers/meshcc-home.ts'

const env = { MESHCC_CERT_TTL: '15s', MESHCC_RENEW_CHECK: '1s' }

async function certOf(n: JoinedNode) {
  const cert = decodeCertificate(new Uint8Array(await readFile(identityPaths(n.h.home).nodeCert)))
  assert.ok(cert)
  return cert
}

describe('renewal between daemons', () => {
  let a: JoinedNode
  let b: JoinedNode
  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run `npm run build` first')
    a = await joinedNode({ env })
    b = await joinedNode({ invite: await a.invite(), env })
  })
  after(async () => {
    await Promise.all([a, b].filter(Boolean).map((n) => n.h.cleanup()))
  })

  it("renews the member's 15-second certificate from the key holder, which keeps it admitted", async () => {
    await b.waitPeers((s) => sees(s, a.peerId))
    const first = await certOf(b)
    assert.equal(first.exp - first.nbf, 15)
    const renewed = await waitFor(
      async () => {
        const c = await certOf(b)
        return c.serial !== first.serial ? c : undefined
      },
      { timeoutMs: 25_000, what: "B's certificate renewed" },
    )
    assert.ok(renewed.nbf < first.exp, 'renewed before the old one expired')
    assert.equal(renewed.exp - renewed.nbf, 15)
    // A holds the renewed certificate (B presented it again), and they are still connected.
    await a.waitPeers((s) =>
      s.peers.some(
        (p) => p.peerId === b.peerId && p.connected && p.certExpiry >= renewed.exp * 1000,
      ),
    )
    const d = await b.cli(['doctor', '--json'])
    const checks = JSON.parse(d.stdout.toString()).checks as Array<{
      name: string
      status: string
      detail: string
    }>
    const renewal = checks.find((c) => c.name === 'renewal')
    assert.equal(renewal?.status, 'ok')
    assert.match(renewal?.detail ?? '', new RegExp(`^renewed at .* by ${a.peerId}`))
    const log = await readFile(join(b.h.home, 'logs', 'daemon.log'), 'utf8')
    assert.match(log, /"msg":"certificate renewed"/)
  })
})
