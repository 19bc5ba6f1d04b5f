/**
 * The rules an imported toolchain (directory or archive) must follow, shared by both importers:
 * entry names normalised and refused when absolute or climbing with `..`; no entry below a
 * symlink or a file; symlinks relative and resolving inside; bounded entry counts. Violations are
 * `UnsafeArchiveEntryError`s naming the entry.
 */
import { ToolchainManifestError, UnsafeArchiveEntryError } from '../errors.ts'
import { checkEntryPath, checkLinkTarget, resolveInside } from './manifest-paths.ts'

export const DEFAULT_MAX_ENTRIES = 100_000

/** `./usr/bin//gcc/` → `usr/bin/gcc`; '' for the root itself. Refuses absolute and `..`. */
export function normalizeEntryName(name: string): string {
  if (name.startsWith('/')) throw new UnsafeArchiveEntryError(`'${name}': absolute path`)
  const parts = name.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw new UnsafeArchiveEntryError(`'${name}': path climbs with '..'`)
  const path = parts.join('/')
  if (path === '') return ''
  try {
    checkEntryPath('entry', path)
  } catch (err) {
    throw new UnsafeArchiveEntryError(`'${name}': ${(err as Error).message}`)
  }
  return path
}

/** Tracks what an import has seen, refusing entries that would go through links or collide. */
export class EntryTable {
  readonly files = new Map<string, { mode: number; source: string }>()
  readonly links = new Map<string, string>()
  readonly dirs = new Set<string>()
  #count = 0
  readonly #maxEntries: number

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#maxEntries = maxEntries
  }

  #place(path: string, raw: string, kind: string): void {
    if (++this.#count > this.#maxEntries)
      throw new UnsafeArchiveEntryError(`more than ${this.#maxEntries} entries (at '${raw}')`)
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const up = parts.slice(0, i).join('/')
      if (this.links.has(up))
        throw new UnsafeArchiveEntryError(`'${raw}' would be written through the symlink '${up}'`)
      if (this.files.has(up))
        throw new UnsafeArchiveEntryError(`'${raw}' is inside the file '${up}'`)
    }
    if (kind === 'dir') {
      if (this.files.has(path) || this.links.has(path))
        throw new UnsafeArchiveEntryError(`'${raw}': directory over an earlier entry`)
    } else if (this.files.has(path) || this.links.has(path) || this.dirs.has(path)) {
      throw new UnsafeArchiveEntryError(`'${raw}': duplicate entry`)
    }
    for (let i = 1; i <= parts.length; i++) {
      if (i === parts.length && kind !== 'dir') break
      this.dirs.add(parts.slice(0, i).join('/'))
    }
  }

  addDir(path: string, raw: string): void {
    if (path !== '') this.#place(path, raw, 'dir')
  }

  addFile(path: string, raw: string, mode: number, source: string): void {
    this.#place(path, raw, 'file')
    this.files.set(path, { mode, source })
  }

  addLink(path: string, raw: string, target: string): void {
    if (target.startsWith('/'))
      throw new UnsafeArchiveEntryError(`'${raw}': symlink to the absolute path '${target}'`)
    try {
      checkLinkTarget('target', target)
      resolveInside(path, target, this.links) // early refusal of the obvious escapes
    } catch (err) {
      throw new UnsafeArchiveEntryError(`'${raw}' -> '${target}': ${(err as Error).message}`)
    }
    this.#place(path, raw, 'link')
    this.links.set(path, target)
  }

  /** Final check, once every link is known: each one resolves inside the toolchain. */
  checkLinks(): void {
    for (const [path, target] of this.links) {
      try {
        resolveInside(path, target, this.links)
      } catch (err) {
        if (!(err instanceof ToolchainManifestError)) throw err
        throw new UnsafeArchiveEntryError(`'${path}' -> '${target}' points outside the toolchain`)
      }
    }
  }
}
