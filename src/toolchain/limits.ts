/**
 * Sizes and bounds of toolchains: the chunk geometry shared by the store and (later) the
 * multi-peer fetcher, and the limits every manifest and imported archive must respect. A peer's
 * manifest is hostile input until proven otherwise; these bounds keep decoding and unpacking
 * cheap and finite.
 */

/** Files larger than this carry a list of chunk hashes in the manifest. */
export const CHUNKED_FILE_THRESHOLD = 4 * 1024 * 1024
/** Size of one chunk of a chunked file (the last one may be shorter). */
export const CHUNK_SIZE = 1024 * 1024

export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024
export const MAX_FILES = 200_000
export const MAX_SYMLINKS = 200_000
export const MAX_FILE_BYTES = 4 * 1024 ** 3
export const MAX_TOOLCHAIN_BYTES = 32 * 1024 ** 3
export const MAX_PATH_BYTES = 4096
export const MAX_COMPONENT_BYTES = 255
export const MAX_PATH_DEPTH = 64
export const MAX_TARGETS = 64
export const MAX_SYMLINK_HOPS = 40

/** Number of chunks a file of `size` bytes is transferred in (≥ 1, also for empty files). */
export function chunkCount(size: number): number {
  return size > CHUNKED_FILE_THRESHOLD ? Math.ceil(size / CHUNK_SIZE) : 1
}

/** Byte range `[start, end)` of chunk `index` of a file of `size` bytes. */
export function chunkRange(size: number, index: number): { start: number; end: number } {
  if (size <= CHUNKED_FILE_THRESHOLD) return { start: 0, end: size }
  const start = index * CHUNK_SIZE
  return { start, end: Math.min(size, start + CHUNK_SIZE) }
}
