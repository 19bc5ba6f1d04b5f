import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { importToolchain } from '../../../src/toolchain/import.ts'
import { readTar } from '../../../src/toolchain/tar-reader.ts'
import { ToolchainStore } from '../../../src/toolchain/store.ts'
import { tar } from './tar-fixture.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-tar-'))
after(() => rm(base, { recursive: true, force: true }))
const limits = { maxEntrySize: 1 << 20, maxTotalBytes: 1 << 24 }

async function entries(buf: Buffer) {
  const out: { name: string; type: string; body: string; linkname: string }[] = []
  for await (const e of readTar([buf], limits)) {
    let body = ''
    if (e.name.endsWith('skip-body')) {
      out.push({ name: e.name, type: e.type, body: '(skipped)', linkname: e.linkname })
      continue
    }
    for await (const p of e.body()) body += p.toString()
    out.push({ name: e.name, type: e.type, body, linkname: e.linkname })
  }
  return out
}

describe('tar reader', () => {
  it('reads bodies, skips unread ones, and stops at the end blocks', async () => {
    const got = await entries(
      tar([
        { name: 'a', body: 'x'.repeat(700) },
        { name: 'b-skip-body', body: 'y'.repeat(513) },
        { name: 'c', type: '2', linkname: 'a' },
        { name: 'd/', type: '5' },
      ]),
    )
    assert.deepEqual(
      got.map((e) => [e.name, e.type, e.body.length, e.linkname]),
      [
        ['a', 'file', 700, ''],
        ['b-skip-body', 'file', 9, ''],
        ['c', 'symlink', 0, 'a'],
        ['d/', 'dir', 0, ''],
      ],
    )
  })

  it('refuses a truncated archive', async () => {
    const t = tar([{ name: 'a', body: 'x'.repeat(2000) }], { end: false }).subarray(0, 1024)
    await assert.rejects(entries(t), /truncated/)
  })

  it('reads GNU and pax long names written by GNU tar, and imports them', async () => {
    const src = join(base, 'src')
    const long = `usr/lib/gcc/x86_64-linux-gnu/12/include/${'very-long-directory-name/'.repeat(8)}`
    await mkdir(join(src, long), { recursive: true })
    await mkdir(join(src, 'usr/bin'), { recursive: true })
    await writeFile(join(src, long, 'header.h'), '#define X 1\n')
    await writeFile(join(src, 'usr/bin/x86_64-linux-gnu-gcc-12'), '#!/bin/sh\n', { mode: 0o755 })
    await symlink(
      `../lib/gcc/x86_64-linux-gnu/12/include/${'very-long-directory-name/'.repeat(8)}header.h`,
      join(src, 'usr/bin/long-link'),
    )
    const ids = new Set<string>()
    for (const format of ['gnu', 'pax', 'ustar']) {
      const archive = join(base, `t-${format}.tar`)
      const r = (() => {
        try {
          execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', archive, '.'], {
            stdio: 'pipe',
          })
          return true
        } catch {
          return false // ustar cannot hold the long link target
        }
      })()
      if (!r) continue
      const store = new ToolchainStore(join(base, `store-${format}`, 'toolchains'))
      const id = await importToolchain(store, archive, { platform: 'linux-x86_64' })
      ids.add(id)
      const root = await store.materialize(id)
      assert.equal(await readFile(join(root, long, 'header.h'), 'utf8'), '#define X 1\n')
      assert.match(await readlink(join(root, 'usr/bin/long-link')), /header\.h$/)
    }
    assert.equal(ids.size, 1, 'every tar format gives the same toolchain id')
  })
})
