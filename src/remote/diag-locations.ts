/**
 * The files a gcc diagnostic text names. gcc prints a source excerpt (and computes display
 * columns) by re-opening the file a location names, so a remote result is exact only when every
 * file its stderr names was present in the builder's sandbox with the client's content
 * (`diag-sources.ts`). This parser finds those names:
 *
 * - locations `PATH:LINE:COL: ` and `PATH:LINE: ` (`-fno-show-column`) at the start of a line;
 * - include chains `In file included from PATH:LINE[:COL][,:]` and `                 from …`;
 * - inlining chains `    inlined from ‘f’ at PATH:LINE:COL:` (the column is computed from the file);
 * - C++ module chains `In module imported at PATH:LINE…` and `of module NAME, imported at PATH…`;
 * - context lines `PATH: In function ‘f’:` / `PATH: At top level:` (no excerpt, but the file
 *   is the one the next location names, so listing it costs nothing and errs on the safe side).
 *
 * Colour (`-fdiagnostics-color`, SGR) and hyperlink (`-fdiagnostics-urls`, OSC 8) escapes are
 * removed first. Pseudo-files (`<built-in>`, `<command-line>`, `<stdin>`) are not files.
 * A misparse can only add a name that was not shipped, which makes the result inexact and the
 * client falls back: it never makes a wrong result look exact, as long as every excerpt follows a
 * location line, which is how gcc prints them.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what we strip
const ESCAPES = /\x1b\[[0-9;:]*[mK]|\x1b\]8;[^\x07\x1b]*(?:\x07|\x1b\\)/g

const LOCATION = /^(.+?):(\d+):(?:(\d+):)? /
const INCLUDED = /^(?:In file included from| +from) (.+?):(\d+)(?::\d+)?[,:]$/
const MODULE = /^(?:In module imported at|of module \S+, imported at) (.+?):(\d+)(?::\d+)?[,:]$/
const INLINED = /^ +inlined from .* at (.+?):(\d+)(?::\d+)?[,:]$/
const CONTEXT = /^(.+?): (?:In |At )/

const PSEUDO = new Set(['<built-in>', '<command-line>', '<stdin>'])

/** Removes SGR colour and OSC 8 hyperlink escapes. */
export function stripEscapes(text: string): string {
  return text.replace(ESCAPES, '')
}

/** Every file name (as printed) that a gcc diagnostic text refers to, in first-seen order. */
export function diagnosticFiles(stderr: string | Uint8Array): string[] {
  const text = typeof stderr === 'string' ? stderr : Buffer.from(stderr).toString('utf8')
  const seen = new Set<string>()
  for (const raw of stripEscapes(text).split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    // Excerpt lines (`  12 | code`, `     |   ^~~`) start with spaces; only `from` does too.
    const m =
      INCLUDED.exec(line) ??
      MODULE.exec(line) ??
      INLINED.exec(line) ??
      LOCATION.exec(line) ??
      CONTEXT.exec(line)
    const name = m?.[1]
    if (name === undefined || PSEUDO.has(name)) continue
    if (/^ +\d* \|/.test(line)) continue
    seen.add(name)
  }
  return [...seen]
}
