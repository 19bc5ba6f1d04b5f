import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import { UnsafeArchiveEntryError } from '../../../src/errors.ts'
import { importToolchain } from '../../../src/toolchain/import.ts'
import { ToolchainStore } from '../../../src/toolchain/store.ts'
import { type FixtureEntry, fakeToolchainEntries, tar } from './tar-fixture.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-import-'))
after(() => rm(base, { recursive: true, force: true }))
let n = 0
async function setup() {
  const dir = join(base, String(n++))
  await mkdir(join(dir, 'outside'), { recursive: true })
  return { dir, store: new ToolchainStore(join(dir, 'home', 'toolchains')) }
}

async function storeIsEmpty(store: ToolchainStore) {
  assert.deepEqual(await store.list(), [])
  assert.equal((await store.usage()).blobs, 0)
  const tmp = await readdir(join(store.root, 'tmp')).catch(() => [])
  assert.deepEqual(tmp, [], 'staging was cleaned up')
}

async function refused(entries: FixtureEntry[], message: RegExp, limits = {}) {
  const { dir, store } = await setup()
  const archive = join(dir, 'evil.tar')
  await writeFile(archive, tar(entries))
  await assert.rejects(
    importToolchain(store, archive, { platform: 'linux-x86_64', ...limits }),
    (err: unknown) => err instanceof UnsafeArchiveEntryError && message.test(err.message),
  )
  await storeIsEmpty(store)
  assert.deepEqual(await readdir(join(dir, 'outside')), [], 'nothing written outside')
  return dir
}

const ok = fakeToolchainEntries()

describe('toolchain import', () => {
  it('imports a tar archive (plain, gzip, zstd, xz) with the same id', async () => {
    const { dir, store } = await setup()
    const plain = tar(ok)
    const files: Record<string, Buffer> = {
      'tc.tar': plain,
      'tc.tar.gz': gzipSync(plain),
      'tc.tar.zst': zstdCompressSync(plain),
      'tc.tar.xz': execFileSync('xz', ['-c'], { input: plain }),
    }
    const ids = new Set<string>()
    for (const [name, data] of Object.entries(files)) {
      await writeFile(join(dir, name), data)
      ids.add(await importToolchain(store, join(dir, name), { platform: 'linux-x86_64' }))
    }
    assert.equal(ids.size, 1)
    const [id] = [...ids]
    const { manifest } = await store.getManifest(id!)
    assert.deepEqual(manifest.targets, ['x86_64-w64-mingw32'])
    assert.equal(manifest.drivers.c, 'usr/bin/x86_64-w64-mingw32-gcc')
    assert.equal(manifest.drivers['c++'], 'usr/bin/x86_64-w64-mingw32-g++')
    const root = await store.materialize(id!)
    assert.equal(await readFile(join(root, 'usr/lib/libbar.so'), 'utf8'), 'library')
    assert.equal(await readlink(join(root, 'usr/lib/libfoo.so.1')), 'libfoo.so.1.0')
    assert.deepEqual(await readdir(join(store.root, 'tmp')), [])
  })

  it('refuses absolute paths', async () => {
    await refused(
      [...ok, { name: '/etc/cron.d/x', body: 'x' }],
      /'\/etc\/cron.d\/x': absolute path/,
    )
  })

  it('refuses .. escapes', async () => {
    await refused(
      [...ok, { name: '../../outside/pwned', body: 'x' }],
      /'\.\.\/\.\.\/outside\/pwned': path climbs/,
    )
    await refused([...ok, { name: 'usr/../../outside/pwned', body: 'x' }], /climbs/)
  })

  it('refuses a symlink to /etc and a file written through a link', async () => {
    await refused(
      [
        { name: 'etc', type: '2', linkname: '/etc' },
        { name: 'etc/passwd', body: 'root::0:0::/:/bin/sh' },
      ],
      /'etc': symlink to the absolute path '\/etc'/,
    )
    await refused(
      [
        { name: 'up', type: '2', linkname: '../../../../../../../../..' },
        { name: 'up/tmp/x', body: 'x' },
      ],
      /'up' -> .*outside/,
    )
    await refused(
      [...ok, { name: 'lnk', type: '2', linkname: 'usr/lib' }, { name: 'lnk/evil', body: 'x' }],
      /'lnk\/evil' would be written through the symlink 'lnk'/,
    )
    // The link made legal, a later link turns it into an escape: caught by the final check.
    await refused(
      [
        ...ok,
        { name: 'a/b', type: '2', linkname: 'c/..' },
        { name: 'a/c', type: '2', linkname: '..' },
      ],
      /'a\/b' -> 'c\/\.\.' points outside/,
    )
  })

  it('refuses hard links to anything but an earlier file', async () => {
    await refused([...ok, { name: 'pw', type: '1', linkname: '/etc/passwd' }], /absolute path/)
    await refused(
      [...ok, { name: 'pw', type: '1', linkname: 'etc/passwd' }],
      /'pw': hard link to 'etc\/passwd', which is not an earlier file/,
    )
    await refused([...ok, { name: 'pw', type: '1', linkname: '../outside/x' }], /climbs/)
  })

  it('refuses devices and fifos', async () => {
    await refused(
      [...ok, { name: 'dev/sda', type: '4' }],
      /'dev\/sda': block device or fifo is not allowed/,
    )
    await refused([...ok, { name: 'dev/tty', type: '3' }], /'dev\/tty': char device/)
    await refused([...ok, { name: 'fifo', type: '6' }], /'fifo': fifo/)
  })

  it('refuses oversized entries and too many entries', async () => {
    await refused(
      [...ok, { name: 'huge', body: 'x'.repeat(2048) }],
      /'huge' is 2048 bytes, over the limit/,
      { maxEntrySize: 1024 },
    )
    // A header claiming 1 TiB is refused before any byte of it is read.
    await refused([...ok, { name: 'huge', size: 2 ** 40 }], /'huge' is \d+ bytes, over the limit/)
    const many = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, body: 'x' }))
    await refused([...ok, ...many], /more than 40 entries/, { maxEntries: 40 })
  })

  it('refuses duplicates and corrupt headers', async () => {
    await refused([...ok, { name: 'usr/lib/gcc/cc1', body: 'other' }], /duplicate entry/)
    const { dir, store } = await setup()
    const bad = tar(ok)
    bad[10] = 0x41 // inside the first header's name: checksum no longer matches
    await writeFile(join(dir, 'bad.tar'), bad)
    await assert.rejects(
      importToolchain(store, join(dir, 'bad.tar'), { platform: 'linux-x86_64' }),
      /checksum/,
    )
    await storeIsEmpty(store)
  })

  it('imports a directory and refuses absolute links and special files in it', async () => {
    const { dir, store } = await setup()
    const src = join(dir, 'tc')
    await mkdir(join(src, 'bin'), { recursive: true })
    await writeFile(join(src, 'bin', 'arm-none-eabi-gcc'), '#!/bin/sh\n', { mode: 0o755 })
    await symlink('arm-none-eabi-gcc', join(src, 'bin', 'arm-none-eabi-cc'))
    const id = await importToolchain(store, src, { platform: 'linux-x86_64' })
    const { manifest } = await store.getManifest(id)
    assert.deepEqual(manifest.targets, ['arm-none-eabi'])
    assert.equal(manifest.drivers.c, 'bin/arm-none-eabi-gcc')
    // One changed byte, another id.
    await writeFile(join(src, 'bin', 'arm-none-eabi-gcc'), '#!/bin/sh \n', { mode: 0o755 })
    assert.notEqual(await importToolchain(store, src, { platform: 'linux-x86_64' }), id)

    await symlink('/etc/passwd', join(src, 'bin', 'pw'))
    await assert.rejects(
      importToolchain(store, src, { platform: 'linux-x86_64' }),
      /'bin\/pw': symlink to the absolute path/,
    )
    await rm(join(src, 'bin', 'pw'))
    execFileSync('mkfifo', [join(src, 'fifo')])
    await assert.rejects(
      importToolchain(store, src, { platform: 'linux-x86_64' }),
      /'fifo' is not a file, directory or symlink/,
    )
    assert.equal(
      existsSync(join(store.root, 'tmp')) ? (await readdir(join(store.root, 'tmp'))).length : 0,
      0,
    )
  })
})
