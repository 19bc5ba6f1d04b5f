/**
 * Precompiled headers the compiler may pick up silently, and their content for the keys.
 *
 * - gcc: for every `-include` and every include the main file runs before its first token, gcc
 *   looks for `<dir>/<name>.gch` (a file, or a directory of candidates) just before it looks for
 *   the header in that directory, and uses it when valid. The depfile then lists neither the
 *   `.gch` nor the headers it was built from (checked with gcc 12), so the compile's own
 *   dependency list cannot reveal it.
 * - clang: for the first `-include <name>`, the driver turns it into `-include-pch <name>.pch`
 *   (else `<name>.gch`) when that path exists relative to the working directory. Its depfile
 *   lists the headers the PCH was built from, but not the PCH.
 *
 * So the pipeline probes those paths before computing a key: every one that exists goes into the
 * key with its content hash (a directory: the hashes of its files), and an absent one adds
 * nothing. A rebuilt PCH (same header, different -D) or one that appears later changes the key;
 * one that disappears changes it back. Probing over-approximates (every search directory, not
 * only those gcc would reach first): an extra probe costs a stat on the hit path, never a wrong
 * hit.
 *
 * Not probed (documented limits): the compiler's built-in system directories (a `.gch` under
 * /usr/include), and headers named by a computed `#include MACRO` that are in a subdirectory of a
 * search directory (a computed include makes every `*.gch` directly in a search directory count).
 *
 * @example
 * ```ts
 * const pch = pchProbes(inv, { cwd, env, files, dirs, leading: scanLeadingIncludes(bytes) })
 * pch.fields // [['foo.h.gch', 'file:3f…']]
 * ```
 */
import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import type { CacheableInvocation } from '../compilers/types.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { KeyHasher } from './key.ts'
import type { LeadingIncludes } from './leading-includes.ts'
import type { PchDirCache } from './pch-dir-cache.ts'

export interface PchState {
  /** [path as spelled (relative to the cwd, or absolute), state] of every PCH found. */
  fields: [string, string][]
  /** A PCH exists where gcc would use it: the compile's depfile does not name its headers. */
  gccPch: boolean
}

export const NO_PCH: PchState = { fields: [], gccPch: false }

export interface PchProbeInput {
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  files: FileHashCache
  /** Directory listings (one stat per directory on the hit path). */
  dirs: PchDirCache
  /** The main file's leading includes (gcc only; undefined for clang). */
  leading: LeadingIncludes | undefined
}

/** Include-path options whose directories gcc searches for `<name>.gch`. */
const SEARCH_OPTIONS = new Set(['-iquote', '-I', '-isystem', '-idirafter'])
const SEARCH_ENV = [
  'CPATH',
  'C_INCLUDE_PATH',
  'CPLUS_INCLUDE_PATH',
  'OBJC_INCLUDE_PATH',
  'OBJCPLUS_INCLUDE_PATH',
]

/**
 * The content of a file (`file:<hash>`) or of a directory's files, one level (`dir:<hash>`);
 * undefined when absent. Also used for extra input files (-fprofile-use=<dir>).
 */
export function pathState(abs: string, files: FileHashCache): string | undefined {
  const st = statSync(abs, { throwIfNoEntry: false })
  if (st === undefined) return undefined
  if (st.isFile()) {
    const hashed = files.hash(abs)
    return hashed === undefined ? undefined : `file:${hashed.hash}`
  }
  if (!st.isDirectory()) return undefined
  // gcc tries every file of a `<name>.gch/` directory and uses the first valid one; clang's
  // -fprofile-use=<dir> reads default.profdata inside (gcc's profile file is named exactly).
  const h = new KeyHasher('pch-directory')
  let names: string[]
  try {
    names = readdirSync(abs).sort()
  } catch {
    return 'dir:unreadable'
  }
  for (const name of names) {
    const hashed = files.hash(join(abs, name))
    if (hashed !== undefined) h.field('name', name).field('hash', hashed.hash)
  }
  return `dir:${h.digest()}`
}

/** Search directories as spelled (relative to the cwd or absolute), in gcc's order, deduplicated. */
function searchDirs(inv: CacheableInvocation, env: PchProbeInput['env']): string[] {
  const dirs: string[] = []
  for (const arg of inv.hashedArgs) {
    if (arg.kind === 'path' && SEARCH_OPTIONS.has(arg.option)) dirs.push(arg.path)
  }
  for (const name of SEARCH_ENV) {
    const value = env[name]
    if (value === undefined || value === '') continue
    // An empty element means the working directory.
    for (const dir of value.split(':')) dirs.push(dir === '' ? '.' : dir)
  }
  return dirs
}

export function pchProbes(inv: CacheableInvocation, input: PchProbeInput): PchState {
  const { cwd, files } = input
  // Candidate file names per directory as spelled ('' for absolute names): path operations
  // happen once per directory, not once per candidate (this runs on every hit).
  const byDir = new Map<string, Set<string>>()
  const add = (dir: string, file: string) => {
    let set = byDir.get(dir)
    if (set === undefined) {
      set = new Set()
      byDir.set(dir, set)
    }
    set.add(file)
  }
  if (inv.family === 'clang') {
    // The driver checks only the -include path itself (relative to the cwd).
    for (const name of inv.forcedIncludes) {
      const dir = isAbsolute(name) ? '' : '.'
      add(dir, `${name}.pch`)
      add(dir, `${name}.gch`)
    }
  } else {
    const dirs = searchDirs(inv, input.env)
    const sourceDir = dirname(inv.source)
    const addName = (name: string, first: string[]) => {
      if (isAbsolute(name)) add('', `${name}.gch`)
      else {
        for (const dir of first) add(dir, `${name}.gch`)
        for (const dir of dirs) add(dir, `${name}.gch`)
      }
    }
    // -include: the working directory first, then the quote chain.
    for (const name of inv.forcedIncludes) addName(name, ['.'])
    const leading = input.leading
    if (leading !== undefined) {
      leading.names.forEach((name, i) => {
        addName(name, leading.quoted[i] === true ? [sourceDir] : [])
      })
      if (leading.computed) {
        for (const dir of ['.', sourceDir, ...dirs]) {
          const names = input.dirs.names(resolve(cwd, dir)) ?? []
          for (const n of names) if (n.endsWith('.gch')) add(dir, n)
        }
      }
    }
  }
  const fields: [string, string][] = []
  // One listing per directory: most hold no PCH at all, and then no candidate in it is stat'ed.
  const listings = new Map<string, ReadonlySet<string> | undefined>()
  const listing = (abs: string) => {
    if (listings.has(abs)) return listings.get(abs)
    const names = input.dirs.names(abs)
    listings.set(abs, names)
    return names
  }
  for (const [dir, names] of byDir) {
    const absDir = dir === '' ? '' : resolve(cwd, dir)
    for (const name of names) {
      let abs: string
      let parentNames: ReadonlySet<string> | undefined
      if (dir !== '' && !name.includes('/')) {
        parentNames = listing(absDir)
        if (parentNames === undefined || !parentNames.has(name)) continue
        abs = join(absDir, name)
      } else {
        abs = dir === '' ? resolve(name) : resolve(absDir, name)
        parentNames = listing(dirname(abs))
        if (parentNames === undefined || !parentNames.has(basename(abs))) continue
      }
      const state = pathState(abs, files)
      if (state !== undefined) fields.push([dir === '' ? name : join(dir, name), state])
    }
  }
  return { fields, gccPch: inv.family === 'gcc' && fields.length > 0 }
}
