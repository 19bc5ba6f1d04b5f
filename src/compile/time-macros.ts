/**
 * Detection of the preprocessor's time macros in source and header bytes.
 *
 * `__DATE__` and `__TIME__` expand to the moment of the compile and `__TIMESTAMP__` to the
 * source file's mtime, so an object built from text using them differs from run to run. With
 * `SOURCE_DATE_EPOCH` set, gcc and clang expand `__DATE__`/`__TIME__` from it (deterministic, and
 * the variable is part of the key); `__TIMESTAMP__` stays file-time dependent. The scan runs over
 * bytes the stat cache reads anyway, so it costs nothing on a hit. A mention in a comment also
 * counts: being conservative here costs a cache entry, never a wrong object.
 */

export const TIME_MACRO_TIME = 1
export const TIME_MACRO_DATE = 2
export const TIME_MACRO_TIMESTAMP = 4

/** Bit set of the time macros mentioned in `data`. */
export function scanTimeMacros(data: Buffer): number {
  // One native search for the common prefix; most files have no `__TIME`/`__DATE` at all.
  let flags = 0
  if (data.indexOf('__TIME__') !== -1) flags |= TIME_MACRO_TIME
  if (data.indexOf('__DATE__') !== -1) flags |= TIME_MACRO_DATE
  if (data.indexOf('__TIMESTAMP__') !== -1) flags |= TIME_MACRO_TIMESTAMP
  return flags
}

/** True if text with these macros can be cached under the given environment. */
export function timeMacrosCacheable(flags: number, env: Record<string, string>): boolean {
  if (flags === 0) return true
  if (flags & TIME_MACRO_TIMESTAMP) return false
  return (env['SOURCE_DATE_EPOCH'] ?? '') !== ''
}
