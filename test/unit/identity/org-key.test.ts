import assert from 'node:assert/strict'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { IdentityFileError, OrgExistsError, OrgNotFoundError } from '../../../src/errors.ts'
import { sha256 } from '../../../src/identity/ed25519.ts'
import {
  createOrg,
  formatOrgKey,
  loadOrg,
  loadOrgIfPresent,
  parseOrgKey,
} from '../../../src/identity/org-key.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { tempHome } from './fixtures.ts'

describe('organisation key', () => {
  it('is saved with mode 0600 in a 0700 directory and loads back', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const old = process.umask(0o000) // even a permissive umask must not widen the key file
    let org: Awaited<ReturnType<typeof createOrg>>
    try {
      org = await createOrg('acme', paths)
    } finally {
      process.umask(old)
    }
    assert.equal((await stat(paths.orgKey)).mode & 0o777, 0o600)
    assert.equal((await stat(paths.orgDir)).mode & 0o777, 0o700)
    assert.equal((await readFile(paths.orgPub, 'utf8')).trim(), org.orgId)
    assert.match(org.orgId, /^acme:[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(org.issuer, sha256(org.publicKey))
    const loaded = await loadOrg(paths)
    assert.equal(loaded.orgId, org.orgId)
    assert.deepEqual(loaded.secretKey, org.secretKey)
    const text = await readFile(paths.orgKey, 'utf8')
    assert.ok(
      !text.includes(org.orgId.split(':')[1] as string),
      'the key file holds the secret, not the public key',
    )
  })

  it('refuses to overwrite an existing organisation', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const org = await createOrg('acme', paths)
    await assert.rejects(createOrg('acme', paths), OrgExistsError)
    assert.equal((await loadOrg(paths)).orgId, org.orgId, 'the first key is untouched')
  })

  it('refuses a key file readable by others', async (t) => {
    const paths = identityPaths(await tempHome(t))
    await createOrg('acme', paths)
    await chmod(paths.orgKey, 0o644)
    await assert.rejects(loadOrg(paths), IdentityFileError)
    await chmod(paths.orgKey, 0o600)
    assert.ok(await loadOrg(paths))
  })

  it('detects a swapped public file and a corrupt key', async (t) => {
    const paths = identityPaths(await tempHome(t))
    await createOrg('acme', paths)
    const pub = await readFile(paths.orgPub, 'utf8')
    await writeFile(paths.orgPub, pub.replace('acme:', 'evil:'))
    await assert.rejects(loadOrg(paths), IdentityFileError)
    await writeFile(paths.orgPub, pub)
    await writeFile(paths.orgKey, 'acme:short\n', { mode: 0o600 })
    await assert.rejects(loadOrg(paths), IdentityFileError)
  })

  it('reports a missing organisation', async (t) => {
    const paths = identityPaths(await tempHome(t))
    assert.equal(await loadOrgIfPresent(paths), undefined)
    await assert.rejects(loadOrg(paths), OrgNotFoundError)
  })

  it('validates names', async (t) => {
    const paths = identityPaths(await tempHome(t))
    await assert.rejects(createOrg('has space', paths), RangeError)
    await assert.rejects(createOrg('', paths), RangeError)
    await assert.rejects(createOrg('x'.repeat(65), paths), RangeError)
  })

  it('formats and parses Nix-style org keys', () => {
    const key = { org: 'acme-root-1', publicKey: new Uint8Array(32).fill(7) }
    const text = formatOrgKey(key)
    assert.deepEqual(parseOrgKey(` ${text}\n`), key)
    assert.throws(() => parseOrgKey('acme'), RangeError)
    assert.throws(() => parseOrgKey('acme:AAAA'), RangeError)
    assert.throws(() => parseOrgKey(`bad name:${text.split(':')[1]}`), RangeError)
  })
})
