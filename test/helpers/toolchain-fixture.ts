/**
 * Synthetic toolchains for transfer tests: a manifest with one or more chunked "compiler" files
 * (random, so incompressible unless asked otherwise) and a few small ones, stored complete in a
 * given store the way local packaging would (blobs first, then the manifest).
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DigestBuilder } from '../../src/toolchain/hash-file.ts'
import {
  buildManifest,
  encodeManifest,
  type ManifestFile,
  manifestId,
  type ToolchainManifest,
} from '../../src/toolchain/manifest.ts'
import type { ToolchainStore } from '../../src/toolchain/store.ts'

export interface SyntheticToolchain {
  id: string
  bytes: Uint8Array
  manifest: ToolchainManifest
  /** path in the toolchain → content */
  contents: Map<string, Buffer>
}

export function makeToolchain({
  bigFiles = [6.5],
  smallFiles = 12,
  compressible = false,
  tag = randomBytes(4).toString('hex'),
}: {
  /** Sizes in MiB of the chunked files. */
  bigFiles?: number[]
  smallFiles?: number
  compressible?: boolean
  tag?: string
} = {}): SyntheticToolchain {
  const contents = new Map<string, Buffer>()
  const fill = (n: number): Buffer => {
    if (!compressible) return randomBytes(n)
    const b = Buffer.alloc(n)
    const seed = randomBytes(4096)
    for (let i = 0; i < n; i += 4096) seed.copy(b, i, 0, Math.min(4096, n - i))
    for (let i = 0; i < n; i += 997) b[i] = i & 0xff
    return b
  }
  contents.set('usr/bin/gcc', Buffer.from(`#!/bin/sh\necho ${tag}\n`))
  for (const [i, mib] of bigFiles.entries())
    contents.set(`usr/libexec/cc${i}`, fill(Math.round(mib * 1024 * 1024)))
  for (let i = 0; i < smallFiles; i++)
    contents.set(`usr/lib/include/h${String(i).padStart(3, '0')}.h`, fill(1000 + i * 997))
  const files: ManifestFile[] = []
  for (const [path, buf] of contents) {
    const d = new DigestBuilder()
    d.update(buf)
    files.push({ path, mode: path.startsWith('usr/bin') ? 0o755 : 0o644, ...d.finish() })
  }
  const manifest = buildManifest({
    platform: 'linux-x86_64',
    targets: ['x86_64-linux-gnu'],
    drivers: { c: 'usr/bin/gcc' },
    compilerId: `synthetic gcc ${tag}`,
    files,
    symlinks: [{ path: 'usr/bin/cc', target: 'gcc' }],
  })
  const bytes = encodeManifest(manifest)
  return { id: manifestId(bytes), bytes, manifest, contents }
}

/** Stores the toolchain complete in `store`. */
export async function storeToolchain(store: ToolchainStore, t: SyntheticToolchain): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-tc-src-'))
  try {
    for (const f of t.manifest.files) {
      const src = join(dir, f.sha256)
      await writeFile(src, t.contents.get(f.path)!)
      await store.putBlobFromFile(src, f)
    }
    await store.putManifest(t.bytes, { expectedId: t.id })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Every regular file of a materialised tree hashes to what the manifest says. */
export async function treeMatches(root: string, manifest: ToolchainManifest): Promise<boolean> {
  for (const f of manifest.files) {
    const got = createHash('sha256')
      .update(await readFile(join(root, f.path)))
      .digest('hex')
    if (got !== f.sha256) return false
  }
  return (await readdir(root)).length > 0
}
