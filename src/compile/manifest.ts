/**
 * Direct-mode manifests: for one direct key (compiler, args, source…), the header sets seen so
 * far and the result each one produced.
 *
 * A lookup hits when every header of an entry still has its recorded content hash (checked
 * through the stat cache, so a hit costs one stat per header). Entries are kept newest first and
 * capped: a source whose headers change often keeps only its recent variants. An entry may be
 * bound to one working directory when its object embeds the checkout path (see pipeline.ts).
 *
 * Known limit of direct mode (shared with ccache, whose manual lists it under CAVEATS: "the direct
 * mode fails to pick up new header files in some rare scenarios"): an entry records the headers
 * the compile read, not the ones it looked for and did not find. A header created later in an
 * include directory searched before the one that held the recorded header (`-Ilocal -I/usr/…`,
 * a new `local/foo.h` shadowing `/usr/…/foo.h`), or one a `__has_include` test now finds, changes
 * what the compiler would read while every recorded header still matches: a stale hit. Builds
 * that create shadowing headers should use `MESHCC_CACHE_MODE=preprocessor`, which keys on the
 * preprocessed text ('both' still tries the manifest first). Precompiled headers, which gcc
 * picks up the same silent way, are probed explicitly (pch-probe.ts).
 *
 * Encoding: UTF-8 JSON `{ v: 1, entries: [{ h: [[path, hash], …], r: resultKey, cwd? }] }`;
 * anything unreadable decodes as an empty manifest (a manifest is only a hint).
 *
 * @example
 * ```ts
 * const m = decodeManifest(store.getManifest(key))
 * const hit = findEntry(m, cwd, (path) => hashOf(path))
 * ```
 */
import { resolve } from 'node:path'

export interface ManifestEntry {
  /** [normalized path, content hash] of every header the compile read, in depfile order. */
  h: [string, string][]
  /** Result key of the compile. */
  r: string
  /** Set when the result is valid only for this working directory. */
  cwd?: string
}

export interface Manifest {
  v: 1
  entries: ManifestEntry[]
}

export const MANIFEST_MAX_ENTRIES = 64

export function decodeManifest(data: Uint8Array | undefined): Manifest {
  if (data === undefined) return { v: 1, entries: [] }
  try {
    const parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString())
    if (parsed?.v !== 1 || !Array.isArray(parsed.entries)) return { v: 1, entries: [] }
    return parsed as Manifest
  } catch {
    return { v: 1, entries: [] }
  }
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  return Buffer.from(JSON.stringify(manifest))
}

/**
 * The first entry (newest first) whose headers all still hash the same. `hashOf` gets the
 * absolute path and returns the current hash, or undefined when the file is gone or unusable.
 * Results are memoized across entries (they share most headers).
 */
export function findEntry(
  manifest: Manifest,
  cwd: string,
  hashOf: (absPath: string) => string | undefined,
): ManifestEntry | undefined {
  const memo = new Map<string, string | undefined>()
  entries: for (const entry of manifest.entries) {
    if (entry.cwd !== undefined && entry.cwd !== cwd) continue
    if (!Array.isArray(entry.h) || typeof entry.r !== 'string') continue
    for (const pair of entry.h) {
      const [path, hash] = pair
      let current: string | undefined
      if (memo.has(path)) current = memo.get(path)
      else {
        current = hashOf(path.charCodeAt(0) === 47 /* '/' */ ? path : resolve(cwd, path))
        memo.set(path, current)
      }
      if (current !== hash) continue entries
    }
    return entry
  }
  return undefined
}

/** The manifest with `entry` added in front (replacing an identical header set). */
export function addEntry(manifest: Manifest, entry: ManifestEntry): Manifest {
  const sig = signature(entry)
  const rest = manifest.entries.filter((e) => signature(e) !== sig)
  return { v: 1, entries: [entry, ...rest].slice(0, MANIFEST_MAX_ENTRIES) }
}

function signature(entry: ManifestEntry): string {
  return `${entry.cwd ?? ''}\0${JSON.stringify(entry.h)}`
}

/**
 * Decoded manifests kept in memory (the daemon is the only writer of its cache), saving the
 * store read and the JSON parse on a hit. A stale copy can only cause a miss, never a wrong hit:
 * every entry is verified against the headers and its result must still exist.
 */
export class ManifestCache {
  readonly #map = new Map<string, Manifest>()
  readonly #max: number

  constructor(max = 4096) {
    this.#max = max
  }

  get(key: string): Manifest | undefined {
    const m = this.#map.get(key)
    if (m !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, m)
    }
    return m
  }

  set(key: string, manifest: Manifest): void {
    this.#map.delete(key)
    this.#map.set(key, manifest)
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next()
      if (oldest.done !== true) this.#map.delete(oldest.value)
    }
  }
}
