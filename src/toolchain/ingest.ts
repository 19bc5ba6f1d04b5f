/**
 * Stores a toolchain collected on this machine: copies every missing blob (each re-verified
 * while copied, so a file changed since hashing is refused), then the manifest — so a manifest
 * from local packaging is only ever visible once all its content is.
 */
import type { CollectedToolchain, PhaseProgress } from './collect-files.ts'
import type { ToolchainStore } from './store.ts'

export async function ingestToolchain(
  store: ToolchainStore,
  t: CollectedToolchain,
  { signal, onProgress }: { signal?: AbortSignal; onProgress?: PhaseProgress } = {},
): Promise<string> {
  const missing = await store.missingBlobs(t.manifest)
  const total = missing.reduce((a, f) => a + f.size, 0)
  let done = 0
  for (const f of missing) {
    signal?.throwIfAborted()
    await store.putBlobFromFile(t.sources.get(f.sha256)!, f, {
      ...(signal ? { signal } : {}),
      onBytes: (n) => {
        done += n
        onProgress?.('storing', done, total)
      },
    })
  }
  return store.putManifest(t.bytes, { expectedId: t.id })
}
