/**
 * Replaying a cached compile's diagnostics to a new client.
 *
 * - Colors: the compile captured colored diagnostics when the requesting client wanted them
 *   (`-fdiagnostics-color=auto` with a terminal, or `always`); a client that does not want
 *   colors gets the SGR escape sequences stripped. The reverse cannot be reconstructed: the
 *   pipeline recompiles instead (see `colorReplayable`).
 * - Checkout frame: absolute paths of the checkout the entry was compiled in are mapped to the
 *   current one (see FrameMapper).
 *
 * @example
 * ```ts
 * stripSgr(Buffer.from('\x1b[01m\x1b[Ka.c:\x1b[m\x1b[K warning')) // 'a.c: warning'
 * ```
 */
import type { CacheableInvocation } from '../compilers/types.ts'
import type { FrameMapper } from './path-normalize.ts'

// CSI … m (SGR) and CSI K (erase in line, which gcc emits after every color change).
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is the point
const SGR_RE = /\x1b\[[0-9;]*[mK]/g

export function stripSgr(data: Uint8Array): Buffer {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
  return Buffer.from(text.replace(SGR_RE, ''), 'latin1')
}

/** Whether this client wants colored diagnostics (what the compiler would decide itself). */
export function wantsColor(
  invocation: Pick<CacheableInvocation, 'color' | 'family'>,
  stderrIsTty: boolean,
  env: Record<string, string>,
): boolean {
  if (invocation.color !== 'auto') return invocation.color === 'always'
  if (!stderrIsTty) return false
  if ((env['TERM'] ?? '') === 'dumb') return false
  // gcc: an empty GCC_COLORS disables colors.
  if (invocation.family === 'gcc' && env['GCC_COLORS'] === '') return false
  return true
}

/** The extra argument forcing colors in a compile whose stderr is a pipe. */
export function forceColorArg(family: 'gcc' | 'clang'): string {
  return family === 'gcc' ? '-fdiagnostics-color=always' : '-fcolor-diagnostics'
}

/**
 * Cached stderr as this client must see it, or undefined when it cannot be produced (the client
 * wants colors the cached output does not have).
 */
export function replayStderr(
  cached: Uint8Array,
  cachedColored: boolean,
  wantColor: boolean,
  frame: FrameMapper | undefined,
): Uint8Array | undefined {
  if (cached.byteLength === 0) return cached
  let out: Uint8Array = cached
  if (cachedColored && !wantColor) out = stripSgr(out)
  else if (!cachedColored && wantColor) return undefined
  if (frame !== undefined) {
    const text = Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('latin1')
    out = Buffer.from(frame.text(text), 'latin1')
  }
  return out
}
