/**
 * Packs every piece of a stored toolchain with zstd (level 3: a little smaller than the level-1
 * packing done on demand, and this runs once, off the critical path), through the node's piece
 * cache, so the packed pieces land at rest and a builder's first pull is served by reads. Pieces
 * already packed are skipped; two pieces at a time, on libuv's thread pool, so the daemon's event
 * loop and the machine's other cores stay mostly free.
 */
import { chunkCount } from '../toolchain/limits.ts'
import type { ToolchainStore } from '../toolchain/store.ts'
import type { PieceCache } from './piece-cache.ts'

const PARALLEL = 2
const LEVEL = 3

export async function packToolchain(
  store: Pick<ToolchainStore, 'getManifest' | 'readChunk'>,
  pieces: PieceCache,
  id: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const { manifest } = await store.getManifest(id)
  const jobs: { file: string; index: number }[] = []
  const seen = new Set<string>()
  for (const f of manifest.files) {
    if (seen.has(f.sha256)) continue
    seen.add(f.sha256)
    for (let i = 0; i < chunkCount(f.size); i++) jobs.push({ file: f.sha256, index: i })
  }
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      signal?.throwIfAborted()
      const { file, index } = jobs[next++]!
      await pieces.encode(`${file}/${index}`, () => store.readChunk(file, index), ['zstd'], {
        level: LEVEL,
      })
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  await pieces.flush()
}
