import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import {
  decodeCrl,
  isRevoked,
  MAX_CRL_BYTES,
  type RevocationList,
  revoke,
  verifyCrl,
} from '../../../src/identity/crl.ts'
import { loadCrl, saveCrl, watchCrlFile } from '../../../src/identity/crl-store.ts'
import { canonicalJson, type CanonicalValue, toBase64Url } from '../../../src/identity/encoding.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { newOrg, newPeerId, tamperTbs, tempHome } from './fixtures.ts'

const SERIAL = '00112233445566778899aabbccddeeff'
const encode = (t: Record<string, unknown>) => canonicalJson(t as CanonicalValue)

describe('revocation list', () => {
  it('grows monotonically and stays cumulative', async () => {
    const org = newOrg()
    const peer = await newPeerId()
    const first = revoke(org, undefined, { serial: SERIAL })
    assert.equal(first.seq, 1)
    const second = revoke(org, first, { peerId: peer })
    assert.equal(second.seq, 2)
    assert.ok(isRevoked(second, { serial: SERIAL }), 'earlier entries are kept')
    assert.ok(isRevoked(second, { subject: peer.toMultihash().bytes }))
    assert.ok(!isRevoked(first, { subject: peer.toMultihash().bytes }))
    assert.ok(!isRevoked(second, { serial: 'ffeeddccbbaa99887766554433221100' }))
    assert.ok(!isRevoked(undefined, { serial: SERIAL }))
  })

  it('verifies only newer lists from trusted keys', async () => {
    const org = newOrg()
    const l1 = revoke(org, undefined, { serial: SERIAL })
    const l2 = revoke(org, l1, { peerId: await newPeerId() })
    assert.equal(verifyCrl(l2.bytes, [org], 1).ok, true)
    assert.equal(verifyCrl(l2.bytes, [org]).ok, true, 'no list held yet')
    assert.deepEqual(
      verifyCrl(l2.bytes, [org], 2),
      { ok: false, reason: 'stale' },
      'same seq is a replay',
    )
    assert.deepEqual(
      verifyCrl(l1.bytes, [org], 2),
      { ok: false, reason: 'stale' },
      'older seq cannot un-revoke',
    )
    assert.deepEqual(verifyCrl(l2.bytes, [newOrg()], 0), { ok: false, reason: 'wrong-org' })
    const bumped = tamperTbs(
      l1.bytes,
      (t) => {
        t['seq'] = 99
      },
      encode,
    )
    assert.deepEqual(verifyCrl(bumped, [org], 2), { ok: false, reason: 'bad-signature' })
    const emptied = tamperTbs(
      l2.bytes,
      (t) => {
        t['revokedSubjects'] = []
      },
      encode,
    )
    assert.deepEqual(verifyCrl(emptied, [org], 1), { ok: false, reason: 'bad-signature' })
  })

  it('rejects malformed lists', async () => {
    const org = newOrg()
    const l1 = revoke(org, undefined, { serial: SERIAL })
    assert.deepEqual(verifyCrl(l1.bytes.subarray(0, l1.bytes.length - 1), [org]), {
      ok: false,
      reason: 'malformed',
    })
    assert.deepEqual(verifyCrl(new Uint8Array(MAX_CRL_BYTES + 1), [org]), {
      ok: false,
      reason: 'malformed',
    })
    const unsorted = tamperTbs(
      l1.bytes,
      (t) => {
        t['revokedSerials'] = ['ff'.repeat(16), SERIAL]
      },
      encode,
    )
    assert.deepEqual(verifyCrl(unsorted, [org]), { ok: false, reason: 'malformed' })
    const zero = tamperTbs(
      l1.bytes,
      (t) => {
        t['seq'] = 0
      },
      encode,
    )
    assert.deepEqual(verifyCrl(zero, [org]), { ok: false, reason: 'malformed' })
    const badSubject = tamperTbs(
      l1.bytes,
      (t) => {
        t['revokedSubjects'] = [toBase64Url(new Uint8Array(5))]
      },
      encode,
    )
    assert.deepEqual(verifyCrl(badSubject, [org]), { ok: false, reason: 'malformed' })
    assert.equal(decodeCrl(new Uint8Array(10)), undefined)
  })

  it("refuses to extend another organisation's list", () => {
    const l1 = revoke(newOrg('a'), undefined, { serial: SERIAL })
    assert.throws(() => revoke(newOrg('b'), l1, { serial: SERIAL }), RangeError)
    assert.throws(() => revoke(newOrg('a'), undefined, { serial: 'xyz' }), RangeError)
  })

  it('persists monotonically', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const org = newOrg()
    const l1 = revoke(org, undefined, { serial: SERIAL })
    const l2 = revoke(org, l1, { peerId: await newPeerId() })
    assert.equal(await loadCrl(paths, [org]), undefined)
    assert.equal(await saveCrl(paths, l2, [org]), true)
    assert.equal(await saveCrl(paths, l1, [org]), false, 'an older list never replaces a newer one')
    assert.equal((await loadCrl(paths, [org]))?.seq, 2)
    assert.equal(await loadCrl(paths, [newOrg()]), undefined, 'untrusted list is not loaded')
  })

  it('hands newer lists written to crl.bin to the daemon hook', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const org = newOrg()
    const seen: RevocationList[] = []
    const ac = new AbortController()
    t.after(() => ac.abort())
    let notify: () => void = () => {}
    watchCrlFile(
      paths,
      () => [org],
      (crl) => {
        seen.push(crl)
        notify()
      },
      { signal: ac.signal, pollMs: 50 },
    )
    const waitFor = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`saw ${seen.length} lists, wanted ${n}`)),
          5000,
        )
        const check = () => {
          if (seen.length >= n) {
            clearTimeout(timer)
            resolve()
          }
        }
        notify = check
        check()
      })
    const l1 = revoke(org, undefined, { serial: SERIAL })
    await saveCrl(paths, l1, [org])
    await waitFor(1)
    // a forged or stale file is ignored; the next real one is delivered
    await writeFile(paths.crl, revoke(newOrg(), undefined, { serial: SERIAL }).bytes)
    await writeFile(paths.crl, l1.bytes)
    const l2 = revoke(org, l1, { serial: 'ff'.repeat(16) })
    await saveCrl(paths, l2, [org])
    await waitFor(2)
    await new Promise((r) => setTimeout(r, 150))
    assert.deepEqual(
      seen.map((c) => c.seq),
      [1, 2],
    )
  })
})

describe('watchCrlFile', () => {
  it('skips lists the node already holds', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const org = newOrg()
    const l1 = revoke(org, undefined, { serial: SERIAL })
    const l2 = revoke(org, l1, { serial: 'ff'.repeat(16) })
    await saveCrl(paths, l2, [org])
    const seen: number[] = []
    const ac = new AbortController()
    t.after(() => ac.abort())
    let held = 2
    watchCrlFile(
      paths,
      () => [org],
      (crl) => {
        seen.push(crl.seq)
      },
      { signal: ac.signal, pollMs: 30, currentSeq: () => held },
    )
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(seen, [], 'the daemon saved seq 2 itself')
    held = 1
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(seen, [2], 'a list newer than the held one is delivered once')
  })
})
