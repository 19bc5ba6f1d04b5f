/**
 * `meshcc org …` through the real entry point (`bin/meshcc` → Node CLI → `runOrgCommand`):
 * init, invite (the token alone on stdout, for `TOKEN=$(meshcc org invite)`), show, help, and
 * typed errors with the CLI's exit statuses. Needs `npm run build`.
 */
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseInvitation } from '../../src/identity/invitation.ts'
import { makeHome, meshccBin, runCommand, type TestHome } from '../helpers/meshcc-home.ts'

describe('meshcc org', () => {
  let h: TestHome
  const cli = (args: string[]) => runCommand(meshccBin, args, { cwd: h.dir, env: h.env })
  before(async () => {
    h = await makeHome()
  })
  after(() => h.cleanup())

  let created: { org: string; orgId: string; fingerprint: string; keyFile: string }

  it('org init --json creates the key and describes it', async () => {
    const r = await cli(['org', 'init', '--name', 'acme-test', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    created = JSON.parse(r.stdout.toString())
    assert.equal(created.org, 'acme-test')
    assert.match(created.orgId, /^acme-test:[A-Za-z0-9_-]{43}$/)
    assert.match(created.fingerprint, /^[0-9a-f]{64}$/)
    assert.equal(created.keyFile, join(h.home, 'org', 'org.key'))
    assert.equal(statSync(created.keyFile).mode & 0o777, 0o600)
    // A second init refuses to overwrite the key: an error, not a usage mistake.
    const again = await cli(['org', 'init', '--json'])
    assert.equal(again.code, 1)
    assert.match(JSON.parse(again.stdout.toString()).code, /^ERR_MESHCC_/)
  })

  it('org invite prints the token alone on stdout', async () => {
    const r = await cli(['org', 'invite', '--ttl', '30m', '--uses', '2'])
    assert.equal(r.code, 0, r.stderr.toString())
    const out = r.stdout.toString()
    assert.match(out, /^[A-Za-z0-9_-]+\n$/, 'one line, nothing but the token')
    const invitation = parseInvitation(out)
    assert.equal(invitation.orgKey.org, 'acme-test')
    assert.equal(invitation.maxUses, 2)
    const ttl = invitation.exp - Date.now() / 1000
    assert.ok(ttl > 29 * 60 && ttl <= 30 * 60, `expires in ${ttl} s`)
  })

  it('org show --json reports the organisation', async () => {
    const r = await cli(['org', 'show', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    const shown = JSON.parse(r.stdout.toString())
    assert.equal(shown.org.name, 'acme-test')
    assert.equal(shown.org.orgId, created.orgId)
    assert.equal(shown.org.fingerprint, created.fingerprint)
    const human = await cli(['org', 'show'])
    assert.equal(human.code, 0)
    assert.ok(human.stdout.toString().includes(created.orgId))
  })

  it('help, and usage errors with exit status 2', async () => {
    for (const args of [
      ['org', '--help'],
      ['help', 'org'],
      ['org', 'invite', '--help'],
    ]) {
      const r = await cli(args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout.toString(), /^Usage: meshcc org/)
    }
    const main = await cli(['--help'])
    assert.match(main.stdout.toString(), /\n {2}org init\|invite\|issue\|revoke\|show\s+\S/)
    for (const args of [['org'], ['org', 'frobnicate'], ['org', 'invite', '--bogus']]) {
      const r = await cli(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr.toString(), /^error\[ERR_MESHCC_(USAGE|UNKNOWN_FLAG)\]: /)
    }
  })
})
