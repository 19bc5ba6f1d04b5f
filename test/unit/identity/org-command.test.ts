import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { runOrgCommand } from '../../../src/cli/org-command.ts'
import { OrgNotFoundError, UnknownFlagError, UsageError } from '../../../src/errors.ts'
import { parseCertificateFile } from '../../../src/identity/certificate-file.ts'
import { verifyCrl } from '../../../src/identity/crl.ts'
import { toBase64Url } from '../../../src/identity/encoding.ts'
import { readIfExists } from '../../../src/identity/files.ts'
import { parseInvitation } from '../../../src/identity/invitation.ts'
import { ensurePersonalOrg } from '../../../src/identity/node-identity.ts'
import { loadOrg } from '../../../src/identity/org-key.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { verifyCertificate } from '../../../src/identity/verify-certificate.ts'
import { newPeerId, tempHome } from './fixtures.ts'

async function cli(t: TestContext) {
  const home = await tempHome(t)
  const run = async (...argv: string[]) => {
    let stdout = ''
    let stderr = ''
    const code = await runOrgCommand(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { MESHCC_HOME: home },
    })
    return { code, stdout, stderr }
  }
  return { home, paths: identityPaths(home), run }
}

describe('meshcc org', () => {
  it('init creates the key (0600) and prints the org id', async (t) => {
    const { paths, run } = await cli(t)
    const r = await run('init', '--name', 'acme', '--json')
    assert.equal(r.code, 0)
    const out = JSON.parse(r.stdout) as { org: string; orgId: string }
    assert.equal(out.org, 'acme')
    assert.equal(out.orgId, (await loadOrg(paths)).orgId)
    assert.equal((await stat(paths.orgKey)).mode & 0o777, 0o600)
    await assert.rejects(run('init', '--name', 'acme'), { code: 'ERR_MESHCC_ORG_EXISTS' })
    await assert.rejects(run('init', '--name', 'bad name'), UsageError)
  })

  it('invite prints the token alone on stdout', async (t) => {
    const { run, paths } = await cli(t)
    await run('init', '--name', 'acme')
    const r = await run(
      'invite',
      '--ttl',
      '30m',
      '--uses',
      '3',
      '--roles',
      'client',
      '--groups',
      'ci',
      '--addr',
      '/ip4/127.0.0.1/tcp/4001',
    )
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^[A-Za-z0-9_-]+\n$/)
    const inv = parseInvitation(r.stdout)
    assert.equal(inv.maxUses, 3)
    assert.deepEqual(inv.roles, ['client'])
    assert.deepEqual(inv.groups, ['ci'])
    assert.deepEqual(inv.addrs, ['/ip4/127.0.0.1/tcp/4001'])
    assert.ok(Math.abs(inv.exp - (Date.now() / 1000 + 1800)) < 5)
    assert.deepEqual(inv.orgKey.publicKey, (await loadOrg(paths)).publicKey)
    assert.equal(inv.inviterPeerId, undefined, 'no node certificate yet')
  })

  it('invite names this node as inviter once it has joined, and --json gives details', async (t) => {
    const { run, paths } = await cli(t)
    const peer = await newPeerId()
    await ensurePersonalOrg(paths, peer)
    const r = await run('invite', '--json')
    const out = JSON.parse(r.stdout) as {
      token: string
      inviter: string
      maxUses: number
      roles: string[]
    }
    assert.equal(out.inviter, peer.toString())
    assert.equal(out.maxUses, 1)
    assert.deepEqual(out.roles, ['builder', 'client'])
    assert.equal(parseInvitation(out.token).inviterPeerId, peer.toString())
  })

  it('invite validates its options', async (t) => {
    const { run } = await cli(t)
    await assert.rejects(run('invite'), OrgNotFoundError)
    await run('init', '--name', 'acme')
    await assert.rejects(run('invite', '--ttl', '8d'), UsageError)
    await assert.rejects(run('invite', '--ttl', 'soon'), UsageError)
    await assert.rejects(run('invite', '--uses', '0'), UsageError)
    await assert.rejects(run('invite', '--roles', 'root'), UsageError)
    await assert.rejects(run('invite', '--roles', ''), UsageError)
    await assert.rejects(run('invite', '--bogus'), UnknownFlagError)
    await assert.rejects(run('invite', 'extra'), UsageError)
  })

  it('revoke writes a newer signed list each time', async (t) => {
    const { run, paths } = await cli(t)
    await run('init', '--name', 'acme')
    const org = await loadOrg(paths)
    const peer = await newPeerId()
    const r1 = await run('revoke', peer.toString(), '--json')
    assert.equal(r1.code, 0)
    assert.equal((JSON.parse(r1.stdout) as { seq: number }).seq, 1)
    const serial = 'AABBCCDDEEFF00112233445566778899'
    const r2 = await run('revoke', serial)
    assert.match(r2.stdout, /seq 2/)
    const bytes = await readIfExists(paths.crl)
    assert.ok(bytes)
    const v = verifyCrl(bytes, [org], 1)
    assert.ok(v.ok)
    assert.equal(v.crl.seq, 2)
    assert.ok(v.crl.revokedSerials.has(serial.toLowerCase()))
    assert.equal(v.crl.revokedSubjects.size, 1)
    const again = JSON.parse((await run('revoke', peer.toString(), '--json')).stdout) as {
      alreadyRevoked: boolean
      seq: number
    }
    assert.deepEqual([again.alreadyRevoked, again.seq], [true, 2])
    await assert.rejects(run('revoke'), UsageError)
    await assert.rejects(run('revoke', 'nonsense'), UsageError)
    await assert.rejects(run('revoke', peer.toString(), serial), UsageError)
  })

  it('show reports org, node certificate and revocations', async (t) => {
    const { run, paths } = await cli(t)
    const empty = JSON.parse((await run('show', '--json')).stdout) as Record<string, unknown>
    const self = empty['peerId']
    assert.match(String(self), /^12D3KooW/)
    assert.deepEqual(empty, { peerId: self, org: null, node: null, crl: null })
    // The peer key was created once and is kept: the id stays the same.
    const again = JSON.parse((await run('show', '--json')).stdout) as Record<string, unknown>
    assert.equal(again['peerId'], self)
    const peer = await newPeerId()
    const { org } = await ensurePersonalOrg(paths, peer, { name: 'box' })
    const revoked = await newPeerId()
    await run('revoke', revoked.toString())
    const out = JSON.parse((await run('show', '--json')).stdout) as {
      org: { orgId: string }
      node: { peerId: string; status: string; roles: string[]; name: string }
      crl: { seq: number; revokedPeers: string[] }
    }
    assert.equal(out.org.orgId, org?.orgId)
    assert.equal(out.node.peerId, peer.toString())
    assert.equal(out.node.status, 'valid')
    assert.equal(out.node.name, 'box')
    assert.deepEqual(out.node.roles, ['admin', 'builder', 'client'])
    assert.deepEqual(out.crl.revokedPeers, [revoked.toString()])
    const human = (await run('show')).stdout
    assert.match(human, new RegExp(`peer id: +${peer.toString()}`))
    assert.match(human, /revocation list: seq 1/)
  })

  it('every command has --help, unknown flags and commands are refused', async (t) => {
    const { run } = await cli(t)
    for (const sub of ['init', 'invite', 'issue', 'revoke', 'show']) {
      const r = await run(sub, '--help')
      assert.equal(r.code, 0)
      assert.match(r.stdout, new RegExp(`^Usage: meshcc org ${sub}`))
      await assert.rejects(run(sub, '--no-such-flag'), UnknownFlagError)
    }
    assert.match((await run('--help')).stdout, /^Usage: meshcc org <command>/)
    assert.match((await run('org', '--help')).stdout, /^Usage: meshcc org <command>/)
    await assert.rejects(run(), UsageError)
    await assert.rejects(run('frobnicate'), UsageError)
    await assert.rejects(run('--frob'), UnknownFlagError)
    await assert.rejects(run('init', '--name'), UsageError)
  })

  it('issue signs a certificate for a given peer id, as text or to a file', async (t) => {
    const { run, paths, home } = await cli(t)
    await assert.rejects(run('issue', '--peer', (await newPeerId()).toString()), {
      code: 'ERR_MESHCC_ORG_NOT_FOUND',
    })
    await run('init', '--name', 'acme')
    const org = await loadOrg(paths)
    const peer = (await newPeerId()).toString()
    const text = await run('issue', '--peer', peer, '--roles', 'builder', '--groups', 'ci,eu')
    assert.equal(text.code, 0)
    assert.match(text.stdout, /^[A-Za-z0-9_-]+\n$/)
    const bytes = parseCertificateFile(new TextEncoder().encode(text.stdout))
    assert.ok(bytes)
    const v = verifyCertificate(bytes, { trustedOrgKeys: [org], expectedPeerId: peer })
    assert.ok(v.ok)
    assert.deepEqual([v.cert.roles, v.cert.groups, v.cert.name], [['builder'], ['ci', 'eu'], peer])
    assert.equal(v.cert.exp - v.cert.nbf, 14 * 86400)

    const out = join(home, 'm.cert')
    const filed = await run(
      'issue',
      '--peer',
      peer,
      '--name',
      'box',
      '--ttl',
      '2h',
      '--out',
      out,
      '--json',
    )
    const info = JSON.parse(filed.stdout) as { file: string; serial: string; certificate: string }
    assert.equal(info.file, out)
    const raw = new Uint8Array(await readFile(out))
    assert.deepEqual(parseCertificateFile(raw), raw)
    const w = verifyCertificate(raw, { trustedOrgKeys: [org], expectedPeerId: peer })
    assert.ok(w.ok)
    assert.deepEqual(
      [w.cert.serial, w.cert.name, w.cert.exp - w.cert.nbf],
      [info.serial, 'box', 7200],
    )
    assert.equal(info.certificate, toBase64Url(raw))

    await assert.rejects(run('issue'), UsageError)
    await assert.rejects(run('issue', '--peer', 'nonsense'), UsageError)
    await assert.rejects(run('issue', '--peer', peer, '--ttl', '400d'), UsageError)
    await assert.rejects(run('issue', '--peer', peer, '--roles', 'root'), UsageError)
  })
})
