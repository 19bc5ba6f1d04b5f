/**
 * The live `meshcc peers` screen: switches to the terminal's alternate screen, hides the cursor,
 * fetches a snapshot every `intervalMs` and redraws in place, redraws at once when the window is
 * resized (SIGWINCH, seen as the stream's `resize` event), and restores the terminal on `q`,
 * Ctrl-C, Esc, SIGTERM/SIGHUP/SIGINT, process exit or an error.
 *
 * Redrawing writes each line followed by "erase to end of line" and finishes with "erase below",
 * in one write, so nothing flickers and rows of members that left vanish. A failing snapshot
 * (daemon restarting, say) keeps the last rows and shows the error on the status line until a
 * later fetch succeeds.
 *
 * @example
 * ```ts
 * await runPeersScreen({ stdout: process.stdout, stdin: process.stdin, source, intervalMs: 1000, color: true })
 * ```
 */
import { stripVTControlCharacters } from 'node:util'
import { renderPeersView } from './peers-view.ts'
import {
  CLEAR_SCREEN,
  CURSOR_HOME,
  ENTER_ALT_SCREEN,
  ERASE_BELOW,
  ERASE_LINE_END,
  HIDE_CURSOR,
  LEAVE_ALT_SCREEN,
  SHOW_CURSOR,
  type TerminalIn,
  type TerminalOut,
} from './terminal.ts'
import { displayWidth } from './text-cell.ts'
import type { PeersSnapshot, PeersSource } from './types.ts'

/** The process hooks the screen installs; tests pass a fake `EventEmitter`. */
export interface ProcessHooks {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
}

export interface PeersScreenOptions {
  stdout: TerminalOut
  stdin: TerminalIn
  source: PeersSource
  intervalMs: number
  color: boolean
  now?: () => number
  signal?: AbortSignal
  process?: ProcessHooks
}

const SIGNALS = { SIGINT: 2, SIGHUP: 1, SIGTERM: 15 } as const

/** Runs until the user quits; resolves with the exit status (0, or 128 + signal number). */
export async function runPeersScreen(opts: PeersScreenOptions): Promise<number> {
  const { stdout, stdin, source, intervalMs } = opts
  const now = opts.now ?? Date.now
  const proc = opts.process ?? process
  const quit = new AbortController()
  let status = 0
  let snapshot: PeersSnapshot | undefined
  let error: string | undefined
  let wake: (() => void) | undefined

  const stop = (code: number) => {
    status = code
    quit.abort()
    wake?.()
  }
  const draw = () => {
    const width = stdout.columns ?? 80
    const height = stdout.rows ?? 24
    const seconds = `${intervalMs / 1000}s`
    const hint = error === undefined ? `q quit · r refresh · every ${seconds}` : `error: ${error}`
    const lines =
      snapshot === undefined
        ? [error === undefined ? 'meshcc peers: waiting for the first snapshot…' : '', hint]
        : renderPeersView(snapshot, { width, height, now: now(), color: opts.color, status: hint })
    // A line filling the last column leaves the cursor on it: erasing there would eat its last
    // character, and it needs no erasing anyway.
    const body = lines
      .slice(0, height)
      .map((l) => (displayWidth(stripVTControlCharacters(l)) < width ? l + ERASE_LINE_END : l))
    stdout.write(CURSOR_HOME + body.join('\r\n') + ERASE_BELOW)
  }
  const onKey = (chunk: string | Buffer) => {
    const key = chunk.toString()
    if (key === 'q' || key === 'Q' || key === '\x03' || key === '\x1b' || key === 'q\n') stop(0)
    else if (key === 'r' || key === ' ') wake?.()
    else if (key === '\x0c') {
      stdout.write(CLEAR_SCREEN)
      draw()
    }
  }
  const onSignal = (signal: unknown) => stop(128 + (SIGNALS[signal as keyof typeof SIGNALS] ?? 0))
  const onAbort = () => stop(0)
  const onExit = () => {
    stop(status)
    restore()
  }

  let restored = false
  const restore = () => {
    if (restored) return
    restored = true
    stdout.off('resize', draw)
    stdin.off('data', onKey)
    for (const s of Object.keys(SIGNALS)) proc.off(s, onSignal)
    proc.off('exit', onExit)
    opts.signal?.removeEventListener('abort', onAbort)
    if (stdin.isTTY) stdin.setRawMode?.(false)
    stdin.pause()
    stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN)
  }

  stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR + CLEAR_SCREEN)
  try {
    if (stdin.isTTY) stdin.setRawMode?.(true)
    stdin.on('data', onKey)
    stdin.resume()
    stdout.on('resize', draw)
    for (const s of Object.keys(SIGNALS)) proc.on(s, onSignal)
    proc.on('exit', onExit)
    if (opts.signal?.aborted) stop(0)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    draw()
    while (!quit.signal.aborted) {
      const timeout = AbortSignal.timeout(Math.max(5_000, 2 * intervalMs))
      try {
        snapshot = await source.snapshot(AbortSignal.any([quit.signal, timeout]))
        error = undefined
      } catch (err) {
        if (quit.signal.aborted) break
        error = err instanceof Error ? err.message : String(err)
      }
      draw()
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          wake = undefined
          resolve()
        }
        const timer = setTimeout(done, intervalMs)
        wake = done
        if (quit.signal.aborted) done()
      })
    }
  } finally {
    restore()
  }
  return status
}
