/**
 * A root-like toolchain tree becomes one read-only mount or symlink per top-level entry, with
 * the sandbox's own directories (/proc, /dev, /tmp, /sys) left out.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { systemToolchainMounts, toolchainMounts } from '../../../src/sandbox/toolchain-mounts.ts'

describe('toolchain mounts', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'meshcc-tc-'))
    for (const d of ['usr/bin', 'usr/lib', 'etc', 'proc', 'tmp'])
      await mkdir(join(root, d), { recursive: true })
    await symlink('usr/lib', join(root, 'lib'))
    await symlink('usr/bin', join(root, 'bin'))
    await writeFile(join(root, 'manifest.txt'), 'x')
  })
  after(() => rm(root, { recursive: true, force: true }))

  it('mounts directories and files, recreates links, skips reserved names', async () => {
    assert.deepEqual(await toolchainMounts(root), [
      { kind: 'symlink', path: '/bin', to: 'usr/bin' },
      { kind: 'ro', source: join(root, 'etc'), path: '/etc' },
      { kind: 'symlink', path: '/lib', to: 'usr/lib' },
      { kind: 'ro', source: join(root, 'manifest.txt'), path: '/manifest.txt' },
      { kind: 'ro', source: join(root, 'usr'), path: '/usr' },
    ])
  })

  it('the system toolchain is the host compiler directories only', async () => {
    const m = await systemToolchainMounts()
    assert.ok(m.some((x) => x.path === '/usr' && x.kind === 'ro'))
    assert.ok(
      m.every((x) =>
        ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'].includes(x.path),
      ),
    )
  })
})
