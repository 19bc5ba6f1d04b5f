/**
 * Decoding of `-g*` options: the debug level they leave (which decides whether the object embeds
 * the working directory) and split DWARF (an extra `.dwo` output). Every `-g*` option is also
 * hashed verbatim by the parser; this only tracks their effect.
 *
 * @example
 * ```ts
 * const state = newDebugState()
 * applyDebugOption('-ggdb3', state) // state.level === 3
 * ```
 */

export interface DebugState {
  /** 0 = no debug info, 1 = line tables, 2 = default -g, 3 = with macros. */
  level: number
  /** -gsplit-dwarf (or =split) was the last split-DWARF option. */
  splitDwarf: boolean
}

export function newDebugState(): DebugState {
  return { level: 0, splitDwarf: false }
}

/** Debug formats whose option takes an optional level digit: -ggdb3, -gdwarf… are handled apart. */
const FORMATS = ['gdb', 'lldb', 'sce', 'dbx', 'stabs+', 'stabs', 'xcoff+', 'xcoff', 'vms', 'coff']

/** Updates `state` for one `-g…` argument. Unknown `-g` options leave it unchanged. */
export function applyDebugOption(arg: string, state: DebugState): void {
  const rest = arg.slice(2)
  if (rest === '') {
    state.level = 2
    return
  }
  const c = rest.charCodeAt(0)
  if (rest.length === 1 && c >= 48 && c <= 57) {
    state.level = Math.min(c - 48, 3)
    return
  }
  if (rest === 'line-tables-only' || rest === 'mlt' || rest === 'line-directives-only') {
    state.level = 1
    return
  }
  if (rest === 'split-dwarf' || rest === 'split-dwarf=split') {
    state.splitDwarf = true
    return
  }
  if (rest === 'split-dwarf=single' || rest === 'no-split-dwarf') {
    state.splitDwarf = false
    return
  }
  if (rest === 'toggle') {
    state.level = state.level === 0 ? 2 : 0
    return
  }
  // -gdwarf, -gdwarf-5: turn debug info on (at the default level) when it was off. Counting it
  // as on is also the safe side: a level above 0 makes the key include the working directory.
  if (rest === 'dwarf' || rest.startsWith('dwarf-')) {
    if (state.level === 0) state.level = 2
    return
  }
  if (rest === 'full' || rest === 'used') {
    state.level = 2
    return
  }
  for (const format of FORMATS) {
    if (rest.startsWith(format)) {
      const digits = rest.slice(format.length)
      if (digits === '') state.level = 2
      else if (digits.length === 1 && digits >= '0' && digits <= '3') state.level = Number(digits)
      return
    }
  }
}
