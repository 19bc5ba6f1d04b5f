/**
 * The member's renewal loop without a network: with no key holder reachable it retries with
 * exponential backoff up to its cap, logs each failure as a structured line and records the
 * state for `meshcc doctor`; a certificate not yet due is left alone.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createLogger } from '../../../src/daemon/logger.ts'
import { decodeCertificate, issueCertificate } from '../../../src/identity/certificate.ts'
import type { NodeIdentity } from '../../../src/identity/node-identity.ts'
import { CertificateRenewer, type RenewerInit } from '../../../src/renewal/renewer.ts'
import { readRenewalState } from '../../../src/renewal/state.ts'
import { testOrg } from '../../helpers/mesh.ts'

const org = testOrg()
const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

async function setup(ageMs: number) {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key)
  const certificate = issueCertificate(org, {
    peerId,
    name: 'm',
    roles: ['client'],
    ttlSeconds: 60,
    now: Date.now() - ageMs,
  })
  const identity: NodeIdentity = {
    certificate,
    cert: decodeCertificate(certificate)!,
    trustAnchor: { org: org.org, publicKey: org.publicKey },
  }
  const home = await mkdtemp(join(tmpdir(), 'meshcc-renewer-'))
  dirs.push(home)
  let dials = 0
  // A mesh with no member at all: nobody to ask.
  const mesh = {
    node: { peerId, peerStore: { get: async () => ({ protocols: [] }) }, getConnections: () => [] },
    admission: { members: () => [], member: () => undefined, whenMember: async () => false },
    snapshot: () => ({ self: {}, peers: [] }),
    dial: async () => {
      dials++
    },
    identity: () => identity,
    reloadIdentity: async () => {},
  } as unknown as RenewerInit['mesh']
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ write: (l) => lines.push(JSON.parse(l)) })
  return { home, mesh, lines, log, dials: () => dials }
}

describe('CertificateRenewer', () => {
  it('backs off exponentially up to the cap while no key holder is reachable', async () => {
    const s = await setup(45_000)
    const r = new CertificateRenewer({
      mesh: s.mesh,
      home: s.home,
      log: s.log,
      checkMs: 60_000,
      retryMs: 20,
      maxRetryMs: 80,
      random: () => 0.5,
    })
    r.start()
    await sleep(400)
    await r.stop()
    const waits = s.lines
      .filter((l) => l['msg'] === 'certificate renewal failed; will retry')
      .map((l) => l['retryInMs'])
    assert.ok(waits.length >= 4, JSON.stringify(waits))
    assert.deepEqual(waits.slice(0, 4), [20, 40, 80, 80])
    const failed = s.lines.find((l) => l['msg'] === 'certificate renewal failed; will retry')
    assert.equal(failed?.['reason'], 'no-admin-known')
    assert.equal(failed?.['level'], 'warn')
    const state = await readRenewalState(s.home)
    assert.equal(state?.failures, waits.length)
    assert.equal(state?.lastError, 'no-admin-known')
    assert.equal(state?.lastSuccessAt, null)
    assert.ok((state?.nextAttemptAt ?? 0) > (state?.lastAttemptAt ?? Infinity))
  })

  it('leaves a certificate alone until two thirds of its lifetime have passed', async () => {
    const s = await setup(0)
    const r = new CertificateRenewer({ mesh: s.mesh, home: s.home, log: s.log, retryMs: 10 })
    r.start()
    await sleep(150)
    await r.stop()
    assert.equal(s.lines.length, 0, JSON.stringify(s.lines))
    const state = await readRenewalState(s.home)
    assert.equal(state?.lastAttemptAt, null)
    // The next check is timed to the due date (40 s after issue), not earlier.
    assert.ok((state?.nextAttemptAt ?? 0) >= Date.now() + 30_000)
  })
})
