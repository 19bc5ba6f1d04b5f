/**
 * Turns a collected host tree into a manifest: hashes every file (normalising modes to
 * 0644/0755) and keeps the hash → host path map the store copies blobs from.
 */
import { stat } from 'node:fs/promises'
import type { HostTree } from './host-tree.ts'
import { hashFile } from './hash-file.ts'
import {
  buildManifest,
  encodeManifest,
  type ManifestFile,
  type ManifestInput,
  manifestId,
  type ToolchainManifest,
} from './manifest.ts'

/** Progress of a phase of a long operation. */
export type PhaseProgress = (phase: string, done: number, total: number) => void

export interface CollectedToolchain {
  id: string
  bytes: Uint8Array
  manifest: ToolchainManifest
  /** sha256 → a host file holding that content. */
  sources: Map<string, string>
}

export async function hashTree(
  tree: Pick<HostTree, 'files' | 'symlinks'>,
  meta: Omit<ManifestInput, 'files' | 'symlinks'>,
  { signal, onProgress }: { signal?: AbortSignal; onProgress?: PhaseProgress } = {},
): Promise<CollectedToolchain> {
  const entries = [...tree.files]
  const sizes = await Promise.all(entries.map(async ([, host]) => (await stat(host)).size))
  const total = sizes.reduce((a, b) => a + b, 0)
  let done = 0
  const files: ManifestFile[] = new Array(entries.length)
  const sources = new Map<string, string>()
  let next = 0
  const worker = async () => {
    while (next < entries.length) {
      const i = next++
      const [path, host] = entries[i]!
      const mode = (await stat(host)).mode & 0o777
      const digest = await hashFile(host, {
        ...(signal ? { signal } : {}),
        onBytes: (n) => {
          done += n
          onProgress?.('hashing', done, total)
        },
      })
      files[i] = { path, mode, ...digest }
      sources.set(digest.sha256, host)
    }
  }
  // Two readers keep a disk busy and both cores hashing; more only adds seeks.
  await Promise.all([worker(), worker()])
  const symlinks = [...tree.symlinks].map(([path, target]) => ({ path, target }))
  const manifest = buildManifest({ ...meta, files, symlinks })
  const bytes = encodeManifest(manifest)
  return { id: manifestId(bytes), bytes, manifest, sources }
}
