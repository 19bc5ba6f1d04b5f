/**
 * `meshcc join --cert FILE` through the real CLI and daemons (separate homes, loopback TCP,
 * mDNS off): `meshcc org init` and `meshcc join` on A, B tells its peer id (`meshcc org show`),
 * A signs a certificate for it (`meshcc org issue --peer`), B joins with it and the two admit
 * each other. Certificates for another peer id, from another organisation, expired or not a
 * certificate at all are refused with ERR_MESHCC_CERT_REJECTED and a message saying which, and
 * leave B out. `meshcc doctor --json` then reports the mesh on both. Needs the build.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { issueCertificate } from '../../src/identity/certificate.ts'
import { loadOrg } from '../../src/identity/org-key.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import type { DirectorySnapshot } from '../../src/mesh/types.ts'
import { LOOPBACK, sees } from '../helpers/joined-node.ts'
import { waitFor } from '../helpers/mesh.ts'
import {
  daemonPid,
  makeHome,
  meshccBin,
  repoRoot,
  runCommand,
  type TestHome,
} from '../helpers/meshcc-home.ts'

interface Check {
  name: string
  status: string
  detail: string
  hint?: string
}

describe('joining with a certificate file', () => {
  let a: TestHome
  let b: TestHome
  let z: TestHome
  let c: TestHome
  let aPeer: string
  let aAddrs: string[]
  let bPeer: string
  const cli = (h: TestHome, args: string[]) =>
    runCommand(meshccBin, args, { cwd: h.dir, env: h.env })
  const ok = async (h: TestHome, args: string[]) => {
    const r = await cli(h, args)
    assert.equal(r.code, 0, `meshcc ${args.join(' ')}: ${r.stdout}${r.stderr}`)
    return args.includes('--json') ? JSON.parse(r.stdout.toString()) : r.stdout.toString()
  }
  const peers = async (h: TestHome) => (await ok(h, ['peers', '--json'])) as DirectorySnapshot
  const doctor = async (h: TestHome) => {
    const r = await cli(h, ['doctor', '--json'])
    return (JSON.parse(r.stdout.toString()) as { checks: Check[] }).checks
  }
  const orgPub = () => identityPaths(a.home).orgPub

  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run `npm run build` first')
    ;[a, b, z, c] = await Promise.all([
      makeHome('meshcc-ca-'),
      makeHome('meshcc-cb-'),
      makeHome('meshcc-cz-'),
      makeHome('meshcc-cc-'),
    ])
    await ok(a, ['org', 'init', '--name', 'acme'])
    const joined = await ok(a, ['join', ...LOOPBACK, '--json'])
    assert.equal(joined.created, 'certificate')
    aPeer = joined.peerId
    aAddrs = joined.addrs
    bPeer = (await ok(b, ['org', 'show', '--json'])).peerId
    await ok(z, ['org', 'init', '--name', 'other'])
  })
  after(async () => {
    await Promise.all([a, b, z, c].filter(Boolean).map((h) => h.cleanup()))
  })

  /** `meshcc join --cert FILE --ca A's org.pub` on B, expected to be refused. */
  const refused = async (certFile: string) => {
    const r = await cli(b, [
      'join',
      ...LOOPBACK,
      '--json',
      '--cert',
      certFile,
      '--ca',
      orgPub(),
      '--bootstrap',
      aAddrs[0]!,
    ])
    assert.equal(r.code, 1, r.stderr.toString())
    const error = JSON.parse(r.stdout.toString()) as { code: string; message: string; hint: string }
    // Nothing was installed and no daemon started.
    assert.equal(existsSync(identityPaths(b.home).nodeCert), false)
    assert.equal(existsSync(join(b.home, 'mesh.toml')), false)
    assert.equal(await daemonPid(b.home), undefined)
    return error
  }

  it('refuses a certificate issued for another peer id', async () => {
    const cPeer = (await ok(c, ['org', 'show', '--json'])).peerId
    const file = join(a.dir, 'c.cert')
    await ok(a, ['org', 'issue', '--peer', cPeer, '--out', file])
    const e = await refused(file)
    assert.equal(e.code, 'ERR_MESHCC_CERT_REJECTED')
    assert.match(e.message, new RegExp(`is for peer ${cPeer}, not for this node \\(${bPeer}\\)`))
    assert.match(e.hint, new RegExp(`meshcc org issue --peer ${bPeer}`))
  })

  it("refuses another organisation's certificate", async () => {
    const file = join(z.dir, 'b.cert')
    await ok(z, ['org', 'issue', '--peer', bPeer, '--out', file])
    const e = await refused(file)
    assert.equal(e.code, 'ERR_MESHCC_CERT_REJECTED')
    assert.match(e.message, /issued by organisation other, not by acme/)
  })

  it('refuses an expired certificate', async () => {
    const org = await loadOrg(identityPaths(a.home))
    const file = join(a.dir, 'old.cert')
    const day = 86_400
    await writeFile(
      file,
      issueCertificate(org, {
        peerId: bPeer,
        name: 'b',
        roles: ['client'],
        ttlSeconds: day,
        now: Date.now() - 2 * day * 1000,
      }),
    )
    const e = await refused(file)
    assert.equal(e.code, 'ERR_MESHCC_CERT_REJECTED')
    assert.match(e.message, /expired at \d{4}-/)
  })

  it('refuses a file that is no certificate', async () => {
    const file = join(b.dir, 'junk.cert')
    await writeFile(file, 'hello\n')
    const e = await refused(file)
    assert.equal(e.code, 'ERR_MESHCC_CERT_REJECTED')
    assert.match(e.message, /not a meshcc certificate/)
  })

  it('joins with a certificate A issued for it (as text), and A admits it', async () => {
    // The text form `meshcc org issue` prints, saved as the operator would paste it.
    const text = await ok(a, [
      'org',
      'issue',
      '--peer',
      bPeer,
      '--name',
      'b-box',
      '--roles',
      'builder,client',
    ])
    const file = join(b.dir, 'b.cert')
    await writeFile(file, text)
    const joined = await ok(b, [
      'join',
      ...LOOPBACK,
      '--json',
      '--cert',
      file,
      '--ca',
      orgPub(),
      '--bootstrap',
      aAddrs[0]!,
    ])
    assert.deepEqual(
      [joined.created, joined.org, joined.peerId],
      ['certificate-file', 'acme', bPeer],
    )
    const seen = await waitFor(
      async () => {
        const s = await peers(a)
        return sees(s, bPeer) ? s : undefined
      },
      { timeoutMs: 20_000, what: 'A admitting B' },
    )
    const row = seen.peers.find((p) => p.peerId === bPeer)!
    assert.deepEqual(
      [row.org, row.name, [...row.roles].sort()],
      ['acme', 'b-box', ['builder', 'client']],
    )
    await waitFor(async () => sees(await peers(b), aPeer), {
      timeoutMs: 20_000,
      what: 'B seeing A',
    })
  })

  it('doctor reports the mesh on the member and on the key holder', async () => {
    const byName = (checks: Check[]) => new Map(checks.map((x) => [x.name, x]))
    const onB = byName(await doctor(b))
    assert.equal(onB.get('mesh')?.detail, 'joined')
    assert.equal(onB.get('certificate')?.status, 'ok')
    assert.match(onB.get('certificate')?.detail ?? '', /valid until .* \((13\.9|14\.0) days left\)/)
    assert.match(
      onB.get('organisation')?.detail ?? '',
      /^acme; this node is a member, roles builder, client/,
    )
    assert.match(
      onB.get('members')?.detail ?? '',
      /^1 admitted member connected \(1 with the admin role\)/,
    )
    assert.match(onB.get('listen')?.detail ?? '', /\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    assert.match(onB.get('mDNS')?.detail ?? '', /^off \(bootstrap: 1 address\)/)
    assert.match(onB.get('private network key')?.detail ?? '', /^off/)
    assert.equal(onB.get('renewal')?.status, 'ok')
    const onA = byName(await doctor(a))
    assert.match(onA.get('organisation')?.detail ?? '', /holds the organisation key/)
    assert.match(onA.get('members')?.detail ?? '', /^1 admitted member connected/)
    // A has neither mDNS nor a bootstrap address, but B dialled it: nothing to warn about.
    assert.equal(onA.get('mDNS')?.status, 'ok')
    // A home that never joined says so, with no mesh check failing.
    const none = byName(await doctor(c))
    assert.equal(none.get('mesh')?.detail, 'not joined: compiles use this machine only')
    assert.equal(none.has('certificate'), false)
  })
})
