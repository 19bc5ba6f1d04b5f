/**
 * clang configuration files named on the command line (`--config <file>`, and `--config=<file>`
 * from clang 16): clang reads their options before the command line's, so the parser scans them
 * too (they can turn on debug info, split DWARF, coverage…), and their content goes into the key.
 *
 * Only paths with a slash are read, relative to the working directory, as clang does; a bare name
 * is searched in clang's configuration directories and is not cached (scan-args.ts). The text is
 * split the way `llvm::cl::tokenizeConfigFile` does for the plain cases: lines whose first
 * non-blank character is `#` are comments, the rest is whitespace-separated. Anything that would
 * need more of clang's rules (quotes, backslashes, nested `@file`s resolved from the file's own
 * directory, clang 16's `$`-options and `<CFGDIR>`) makes the compile uncacheable instead.
 *
 * @example
 * ```ts
 * readConfigFiles(['cfg/x86.cfg'], { cwd, readFile }) // { args: ['-O2', '-g'], unsupported: undefined }
 * ```
 */
import { resolve } from 'node:path'

export interface ConfigFileOptions {
  cwd: string
  readFile: (path: string) => string
}

export interface ConfigArgs {
  /** The files' options, in order. */
  args: string[]
  /** Why the files cannot be used, if they cannot. */
  unsupported: string | undefined
}

/** Reads and splits the given configuration files (each once, in order). */
export function readConfigFiles(paths: readonly string[], options: ConfigFileOptions): ConfigArgs {
  const args: string[] = []
  for (const path of new Set(paths)) {
    let text: string
    try {
      text = options.readFile(resolve(options.cwd, path))
    } catch {
      return { args, unsupported: `--config ${path} (cannot be read)` }
    }
    const split = splitConfigFile(text)
    if (split === undefined) {
      return { args, unsupported: `--config ${path} (quotes, escapes, @file or $ options)` }
    }
    args.push(...split)
  }
  return { args, unsupported: undefined }
}

/** The options of a configuration file, or undefined when it needs rules not handled here. */
export function splitConfigFile(text: string): string[] | undefined {
  if (/["'\\]|<CFGDIR>/.test(text)) return undefined
  const out: string[] = []
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    for (const word of trimmed.split(/\s+/)) {
      if (word.startsWith('@') || word.startsWith('$')) return undefined
      if (word !== '') out.push(word)
    }
  }
  return out
}
