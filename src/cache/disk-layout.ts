/**
 * Where a disk cache keeps things: `<dir>/results/<k0k1>/<key>` for compile results and
 * `<dir>/manifests/<k0k1>/<key>` for direct-mode manifests, plus a `CACHEDIR.TAG` so backup
 * tools skip the directory. Ids in the index are the key prefixed with its kind ('r' or 'm').
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type Kind = 'r' | 'm'
export const KIND_DIRS: Record<Kind, string> = { r: 'results', m: 'manifests' }

/** Path of an index id (`'r' + key` or `'m' + key`); the key must already be validated. */
export function entryPath(dir: string, id: string): string {
  const key = id.slice(1)
  return join(dir, KIND_DIRS[id[0] as Kind], key.slice(0, 2), key)
}

const CACHEDIR_TAG =
  'Signature: 8a477f597d28d172789f06886806bc55\n# This is a meshcc cache directory.\n'

/** Writes CACHEDIR.TAG (https://bford.info/cachedir/) unless it exists. Best effort. */
export function writeCacheDirTag(dir: string): void {
  try {
    writeFileSync(join(dir, 'CACHEDIR.TAG'), CACHEDIR_TAG, { flag: 'wx' })
  } catch {
    // Already there (or unwritable: the entries themselves will say so).
  }
}
