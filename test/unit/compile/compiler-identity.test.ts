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
  it('gcc: an assembler under -B or COMPILER_PATH is part of the identity', async () => {
    const bdir = join(dir, 'bdir')
    mkdirSync(bdir, { recursive: true })
    const as = join(bdir, 'as')
    writeFileSync(as, '#!/bin/sh\nexec /usr/bin/as "$@"\n')
    chmodSync(as, 0o755)
    const base = {
      compiler: '/usr/bin/gcc',
      family: 'gcc' as const,
      language: 'c' as const,
      env: { PATH: '/usr/bin:/bin' },
    }
    const ids = new CompilerIdentities(new FileHashCache())
    const plain = await ids.identity(base)
    const withB = await ids.identity({ ...base, prefixes: [`${bdir}/`] })
    const withPath = await ids.identity({ ...base, env: { ...base.env, COMPILER_PATH: bdir } })
    assert.notEqual(withB, plain)
    assert.equal(withPath, withB, 'the same as found another way')
    writeFileSync(as, '#!/bin/sh\n# another assembler\nexec /usr/bin/as "$@"\n')
    assert.equal(ids.cached({ ...base, prefixes: [`${bdir}/`] }), undefined, 'stale record')
    assert.notEqual(await ids.identity({ ...base, prefixes: [`${bdir}/`] }), withB)
  })

  it('clang: the invoked name and configuration files beside the driver count', async () => {
    const ids = new CompilerIdentities(new FileHashCache())
    const path = fake('cfg', 'same')
    const plain = await ids.identity(req(path))
    writeFileSync(join(dir, 'cfg', 'bin', 'x86_64-linux-gnu-clang.cfg'), '-DA=1\n')
    assert.equal(ids.cached(req(path)), undefined, 'a new file in the directory')
    const withCfg = await ids.identity(req(path))
    assert.notEqual(withCfg, plain)
    writeFileSync(join(dir, 'cfg', 'bin', 'x86_64-linux-gnu-clang.cfg'), '-DA=2\n')
    assert.notEqual(await ids.identity(req(path)), withCfg, 'an edited file')
    const other = fake('cfg2', 'same')
    const renamed = join(dir, 'cfg2', 'bin', 'clang++')
    writeFileSync(renamed, '#!/bin/sh\n# same\n')
    chmodSync(renamed, 0o755)
    assert.notEqual(await ids.identity(req(renamed)), await ids.identity(req(other)))
  })
  it('clang: reports the configuration files it loads and whether --config replaces them', async () => {
    const says = (sub: string, version: string, cfg: string | undefined) => {
      mkdirSync(join(dir, sub, 'bin'), { recursive: true })
      const path = join(dir, sub, 'bin', 'clang')
      const loaded = cfg === undefined ? '' : `echo 'Configuration file: ${cfg}'\n`
      writeFileSync(path, `#!/bin/sh\necho 'Debian clang version ${version}'\n${loaded}`)
      chmodSync(path, 0o755)
      return path
    }
    const ids = new CompilerIdentities(new FileHashCache())
    const cfg = join(dir, 'info14', 'bin', 'x86_64-clang.cfg')
    const c14 = says('info14', '14.0.6', cfg)
    writeFileSync(cfg, '-g\n')
    const info = await ids.info(req(c14))
    assert.deepEqual(info.defaultConfigFiles, [cfg])
    assert.equal(info.explicitConfigReplacesDefault, true)
    assert.deepEqual(ids.cachedInfo(req(c14)), info)
    const c17 = await ids.info(req(says('info17', '17.0.1', undefined)))
    assert.deepEqual(c17.defaultConfigFiles, [])
    assert.equal(c17.explicitConfigReplacesDefault, false)
  })
  it('gcc: a specs file gcc would read (here under -B) is part of the identity', async () => {
    const sdir = join(dir, 'sdir')
    mkdirSync(sdir, { recursive: true })
    const base = {
      compiler: '/usr/bin/gcc',
      family: 'gcc' as const,
      language: 'c' as const,
      env: { PATH: '/usr/bin:/bin' },
      prefixes: [`${sdir}/`],
    }
    const ids = new CompilerIdentities(new FileHashCache())
    const without = await ids.identity(base)
    writeFileSync(join(sdir, 'specs'), '*cpp:\n-DONE\n')
    const one = await new CompilerIdentities(new FileHashCache()).identity(base)
    assert.notEqual(one, without)
    writeFileSync(join(sdir, 'specs'), '*cpp:\n-DTWO\n')
    assert.equal(ids.cached(base), undefined, 'the edited specs file voids the record')
    assert.notEqual(await new CompilerIdentities(new FileHashCache()).identity(base), one)
  })
})
