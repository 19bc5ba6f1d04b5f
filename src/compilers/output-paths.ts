/**
 * Output file names as the gcc and clang drivers derive them: the object is the source's base
 * name with `.o` (`.s` for -S) in the working directory; auxiliary files (`.d`, `.dwo`, `.gcno`,
 * `.su`…) take the output path with its suffix replaced (only in the last path component).
 *
 * @example
 * ```ts
 * defaultOutput('src/a.c', 'compile') // 'a.o'
 * replaceSuffix('out.x/foo', '.d')    // 'out.x/foo.d'
 * ```
 */

/** `dir/name.ext` → `name` (gcc's `%b`). */
export function stem(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(0, dot) : base
}

/** Replaces (or appends) the suffix of the last path component. */
export function replaceSuffix(path: string, suffix: string): string {
  const slash = path.lastIndexOf('/')
  const dot = path.lastIndexOf('.')
  return (dot > slash + 1 ? path.slice(0, dot) : path) + suffix
}

/** The output a driver writes without -o. */
export function defaultOutput(source: string, action: 'compile' | 'assemble'): string {
  return stem(source) + (action === 'compile' ? '.o' : '.s')
}
