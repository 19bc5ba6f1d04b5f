import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CompilerIdentities } from '../../../src/compile/compiler-identity.ts'
import { FileHashCache } from '../../../src/compile/file-hash-cache.ts'

describe('CompilerIdentities', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshcc-id-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const fake = (sub: string, body: string) => {
    mkdirSync(join(dir, sub, 'bin'), { recursive: true })
    const path = join(dir, sub, 'bin', 'clang')
    writeFileSync(path, `#!/bin/sh\n# ${body}\n`)
    chmodSync(path, 0o755)
    return path
  }
  const req = (compiler: string) => ({
    compiler,
    family: 'clang' as const,
    language: 'c' as const,
    env: { PATH: '/usr/bin:/bin' },
  })

  it('hashes content, not path; a changed binary changes the identity', async () => {
    const ids = new CompilerIdentities(new FileHashCache())
    const a = await ids.identity(req(fake('a', 'v1')))
    const b = await ids.identity(req(fake('b', 'v1')))
    assert.equal(a, b, 'same content in two prefixes')
    const a2 = await ids.identity(req(fake('a', 'v2')))
    assert.notEqual(a2, a)
  })

  it('gcc: includes cc1 (real gcc), differs per language', async () => {
    const ids = new CompilerIdentities(new FileHashCache())
    const base = {
      compiler: '/usr/bin/gcc',
      family: 'gcc' as const,
      env: { PATH: '/usr/bin:/bin' },
    }
    const c = await ids.identity({ ...base, language: 'c' })
    const cxx = await ids.identity({ ...base, language: 'c++' })
    assert.notEqual(c, cxx)
    assert.equal(ids.cached({ ...base, language: 'c' }), c)
    const viaCc = await ids.identity({ ...base, compiler: '/usr/bin/cc', language: 'c' })
    assert.equal(viaCc, c, '/usr/bin/cc is the same gcc')
  })

  it('persists records and drops them when a file changed', async () => {
    const mem = new Map<string, Uint8Array>()
    const persist = {
      get: (k: string) => mem.get(k),
      put: async (k: string, d: Uint8Array) => {
        mem.set(k, d)
      },
    }
    const path = fake('p', 'one')
    const first = await new CompilerIdentities(new FileHashCache(), persist).identity(req(path))
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(mem.size, 1)
    const fresh = new CompilerIdentities(new FileHashCache(), persist)
    assert.equal(fresh.cached(req(path)), first, 'served from the persisted record')
    fake('p', 'two!')
    const other = new CompilerIdentities(new FileHashCache(), persist)
    assert.equal(other.cached(req(path)), undefined)
    assert.notEqual(await other.identity(req(path)), first)
  })
})
