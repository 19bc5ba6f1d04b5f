/**
 * `@file` response-file expansion, following the rules of gcc's driver (libiberty `expandargv`),
 * which clang's GNU tokenizer matches for everything real builds write:
 *
 * - arguments are separated by whitespace (space, tab, newline, CR, form feed, vertical tab);
 * - `'…'` and `"…"` quote (the other quote character is literal inside), `''` is an empty arg;
 * - a backslash escapes the next character everywhere, inside quotes too;
 * - nested `@file`s are expanded in turn, relative to the working directory (not to the file);
 * - an `@file` that cannot be read is kept literally: the compiler then sees it as an input file
 *   named `@file` and fails, so the caller treats it as uncacheable.
 *
 * @example
 * ```ts
 * const { args, unreadable } = expandResponseFiles(['@flags', 'a.c'], { cwd, readFile })
 * ```
 */
import { resolve } from 'node:path'

/** gcc gives up on self-including response files; so do we, well before memory matters. */
const MAX_EXPANSIONS = 1000

export interface ExpandOptions {
  cwd: string
  readFile: (path: string) => string
}

export interface ExpandedArgs {
  args: string[]
  /** `@file` arguments that could not be read and were kept literally. */
  unreadable: string[]
  /** True when expansion stopped because of self-including response files. */
  tooDeep: boolean
}

/** Splits the text of a response file into arguments (libiberty `buildargv` rules). */
export function splitResponseFile(text: string): string[] {
  const out: string[] = []
  const n = text.length
  let i = 0
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++
    if (i >= n) break
    let arg = ''
    let squote = false
    let dquote = false
    let escaped = false
    for (; i < n; i++) {
      const ch = text[i] as string
      if (escaped) {
        escaped = false
        arg += ch
      } else if (ch === '\\') {
        escaped = true
      } else if (squote) {
        if (ch === "'") squote = false
        else arg += ch
      } else if (dquote) {
        if (ch === '"') dquote = false
        else arg += ch
      } else if (isSpace(text.charCodeAt(i))) {
        break
      } else if (ch === "'") {
        squote = true
      } else if (ch === '"') {
        dquote = true
      } else {
        arg += ch
      }
    }
    out.push(arg)
  }
  return out
}

/** Expands every `@file` argument in place (nested ones too). Never throws for a bad file. */
export function expandResponseFiles(args: readonly string[], options: ExpandOptions): ExpandedArgs {
  // Fast path: most command lines have no response file at all.
  if (!args.some((a) => a.charCodeAt(0) === 64 /* @ */)) {
    return { args: [...args], unreadable: [], tooDeep: false }
  }
  const out = [...args]
  const unreadable: string[] = []
  let expansions = 0
  let i = 0
  while (i < out.length) {
    const arg = out[i] as string
    if (arg.charCodeAt(0) !== 64 || arg.length === 1) {
      i++
      continue
    }
    if (++expansions > MAX_EXPANSIONS) return { args: out, unreadable, tooDeep: true }
    let text: string
    try {
      text = options.readFile(resolve(options.cwd, arg.slice(1)))
    } catch {
      unreadable.push(arg)
      i++
      continue
    }
    // Splice the file's arguments in and look at them again: they may be @files themselves.
    out.splice(i, 1, ...splitResponseFile(text))
  }
  return { args: out, unreadable, tooDeep: false }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}
