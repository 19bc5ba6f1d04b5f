/**
 * Preprocessor mode: the key of a compile is the hash of its preprocessed text (plus the
 * compiler and the arguments that still matter after preprocessing).
 *
 * Line markers (`# 12 "path" flags`) carry the path of every file the preprocessor entered:
 * they are normalized under the base directory (so two checkouts produce the same text), and
 * they give the full list of files read, from which 'both' mode records a direct-mode manifest.
 * The text is handled as latin1 so every byte is hashed as it is; marker paths are decoded from
 * their UTF-8 bytes to name files.
 *
 * @example
 * ```ts
 * const pp = digestPreprocessed(stdout, keyPaths)
 * pp.text   // normalized text to hash
 * pp.files  // ['a.c', 'inc/a.h', '/usr/include/stdio.h', …] as the markers name them
 * ```
 */
import type { KeyArg } from '../compilers/types.ts'
import type { KeyPaths } from './path-normalize.ts'

export interface PreprocessedDigest {
  /** The text with marker paths normalized (latin1 string). */
  text: string
  /** Files named by line markers, in order of first appearance, without `<built-in>` etc. */
  files: string[]
}

const MARKER_RE = /^# (\d+) "((?:[^"\\\n]|\\.)*)"/gm

function unescapeMarker(s: string): string {
  return s.replace(/\\(.)/g, '$1')
}

function escapeMarker(s: string): string {
  return s.replace(/[\\"]/g, '\\$&')
}

export function digestPreprocessed(stdout: Uint8Array, paths: KeyPaths): PreprocessedDigest {
  const raw = Buffer.from(stdout.buffer, stdout.byteOffset, stdout.byteLength).toString('latin1')
  const seen = new Set<string>()
  const files: string[] = []
  const text = raw.replace(MARKER_RE, (_m, line: string, quoted: string) => {
    const name = Buffer.from(unescapeMarker(quoted), 'latin1').toString('utf8')
    // gcc -fworking-directory (on with -g) writes the cwd as `# 1 "/cwd//"`.
    const isCwd = name.endsWith('//')
    if (!name.startsWith('<') && !isCwd && !seen.has(name)) {
      seen.add(name)
      files.push(name)
    }
    const normalized = paths.key(name)
    if (normalized === name) return `# ${line} "${quoted}"`
    const back = Buffer.from(normalized, 'utf8').toString('latin1')
    return `# ${line} "${escapeMarker(back)}${isCwd ? '//' : ''}"`
  })
  return { text, files }
}

/**
 * The preprocessor-only command line: the parser's `preprocessorArgs` with `-E` guaranteed (a
 * run without it would compile and link, writing `a.out` into the user's directory).
 */
export function preprocessOnlyArgs(preprocessorArgs: readonly string[]): string[] {
  return preprocessorArgs.includes('-E') ? [...preprocessorArgs] : [...preprocessorArgs, '-E']
}

/** Options whose whole effect is on the preprocessed text (left out of the preprocessor key). */
const PREPROCESSOR_PATH_OPTIONS =
  /^-(I|isystem|iquote|idirafter|include|imacros|iprefix|iwithprefix|iwithprefixbefore|isysroot)/

export function isPreprocessorOnlyArg(arg: KeyArg): boolean {
  if (arg.kind === 'path') return PREPROCESSOR_PATH_OPTIONS.test(arg.option)
  return /^-[DU]/.test(arg.value)
}
