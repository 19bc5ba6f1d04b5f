/**
 * The arguments a builder runs: the client's own (expanded) arguments, minus what only the
 * client's preprocessing needs. Everything else stays exactly as the build wrote it (same
 * relative source and output paths, same `-x`, same codegen and warning flags), because gcc
 * records its options in `DW_AT_producer` and the object must equal a local compile's.
 *
 * Removed, and why that leaves the object unchanged:
 * - dependency options (`-M*`, `-Wp,-MD,…`): the client writes the depfile from its own
 *   preprocessing; neither compiler records them;
 * - forced includes (`-include`) and include paths (`-I`, `-isystem`, `-iquote`, `-idirafter`,
 *   `-iprefix`…): the preprocessed text already holds every header (gcc keeps `-i*` and `-I`
 *   out of `DW_AT_producer`; clang records nothing without `-grecord-command-line`, which is not
 *   distributed). Kept, they would only make `-Wmissing-include-dirs` warn on the builder.
 *
 * `-D`/`-U` stay: clang's `-frewrite-includes` text does not hold command-line macros, and
 * gcc's directives-only text repeats them identically (an identical redefinition is silent).
 */
import { INCLUDE_SEARCH_OPTIONS, matchOption } from '../compilers/option-table.ts'

const DROP_KEYS = new Set([...INCLUDE_SEARCH_OPTIONS, '-I-', '-iwithsysroot'])

/** `-Wp,` parts that belong to dependency output, with how many values follow each. */
const WP_DEP: Record<string, number> = {
  '-MD': 1,
  '-MMD': 1,
  '-MF': 1,
  '-MT': 1,
  '-MQ': 1,
  '-MP': 0,
  '-MG': 0,
}

function filterWp(arg: string): string | undefined {
  const parts = arg.slice('-Wp,'.length).split(',')
  const kept: string[] = []
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string
    const skip = WP_DEP[p]
    if (skip !== undefined) {
      i += skip
      continue
    }
    // Joined spellings: -MFfile, -MTtarget.
    if (/^-M[FTQ]./.test(p)) continue
    kept.push(p)
  }
  return kept.length === 0 ? undefined : `-Wp,${kept.join(',')}`
}

export function builderArgs(expandedArgs: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < expandedArgs.length; i++) {
    const arg = expandedArgs[i] as string
    if (arg === '--') {
      out.push(...expandedArgs.slice(i))
      break
    }
    const m = matchOption(expandedArgs, i)
    if (m === undefined) {
      out.push(arg)
      continue
    }
    const role = m.spec.role
    if (role.startsWith('dep-') || role === 'include' || DROP_KEYS.has(m.spec.key)) {
      i += m.width - 1
      continue
    }
    if (role === 'wp') {
      const kept = filterWp(arg)
      if (kept !== undefined) out.push(kept)
      continue
    }
    for (let k = 0; k < m.width; k++) out.push(expandedArgs[i + k] as string)
    i += m.width - 1
  }
  return out
}
