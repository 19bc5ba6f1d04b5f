/**
 * The few terminal facts the live view needs: the escape sequences it writes, the stream shapes
 * it reads (so tests can pass fakes instead of a real TTY), and whether to colour.
 *
 * Colour follows the usual conventions: `NO_COLOR` (non-empty) turns it off, `FORCE_COLOR` (not
 * `0`) turns it on, otherwise a TTY that reports colours for the given environment (which also
 * honours `TERM=dumb`) gets them. The renderer then calls `util.styleText` without re-checking
 * `process.stdout`, because the command may be writing to another stream.
 */

export const ENTER_ALT_SCREEN = '\x1b[?1049h'
export const LEAVE_ALT_SCREEN = '\x1b[?1049l'
export const HIDE_CURSOR = '\x1b[?25l'
export const SHOW_CURSOR = '\x1b[?25h'
export const CURSOR_HOME = '\x1b[H'
export const ERASE_LINE_END = '\x1b[K'
export const ERASE_BELOW = '\x1b[J'
export const CLEAR_SCREEN = '\x1b[2J'

/** What the view writes to: a `tty.WriteStream`, or a fake in tests. */
export interface TerminalOut {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
  rows?: number
  hasColors?(env?: object): boolean
  on(event: 'resize', listener: () => void): unknown
  off(event: 'resize', listener: () => void): unknown
}

/** Where keys come from: a `tty.ReadStream`, or a fake in tests. */
export interface TerminalIn {
  isTTY?: boolean
  setRawMode?(mode: boolean): unknown
  setEncoding?(encoding: BufferEncoding): unknown
  resume(): unknown
  pause(): unknown
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown
  off(event: 'data', listener: (chunk: string | Buffer) => void): unknown
}

export type Env = Readonly<Record<string, string | undefined>>

export function colorEnabled(out: Pick<TerminalOut, 'isTTY' | 'hasColors'>, env: Env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false
  const force = env['FORCE_COLOR']
  if (force !== undefined) return force !== '0' && force !== 'false'
  if (out.isTTY !== true) return false
  return typeof out.hasColors === 'function' ? out.hasColors(env) : true
}
