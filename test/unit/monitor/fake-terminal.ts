/**
 * Stand-ins for a TTY pair and the process's signal hooks, for the live view's unit tests: the
 * output keeps every write with the window size at the time, the input records raw-mode changes,
 * and `screen()` replays the writes on a grid that understands the sequences the view uses.
 */
import { EventEmitter } from 'node:events'

interface Logged {
  chunk: string
  columns: number
  rows: number
}

/** A control sequence introducer (ESC `[`) and its private marker, argument and command. */
const CSI = new RegExp(`^${'\x1b'}\\[(\\??)([\\d;]*)([A-Za-z])`)

export interface Screen {
  lines: string[]
  alternate: boolean
  cursorVisible: boolean
}

export class FakeOut extends EventEmitter {
  readonly isTTY = true
  columns: number
  rows: number
  readonly writes: string[] = []
  readonly #log: Logged[] = []

  constructor(columns = 80, rows = 24) {
    super()
    this.columns = columns
    this.rows = rows
  }

  write(chunk: string): boolean {
    this.writes.push(chunk)
    this.#log.push({ chunk, columns: this.columns, rows: this.rows })
    this.emit('wrote')
    return true
  }

  get all(): string {
    return this.writes.join('')
  }

  /** Changes the window size as a terminal does (lines cut or padded) and signals it. */
  resize(columns: number, rows: number): void {
    this.columns = columns
    this.rows = rows
    this.emit('resize')
  }

  /**
   * The visible screen after all writes: cursor home, CR, LF, erase to end of line, erase below,
   * clear screen, alternate screen on/off, cursor show/hide; colour codes are ignored. Writing
   * past the right margin throws, since a real terminal would wrap and spoil the layout.
   */
  screen(): Screen {
    return replay(this.#log, this.columns, this.rows)
  }
}

function replay(log: readonly Logged[], columns0: number, rows0: number): Screen {
  let columns = log[0]?.columns ?? columns0
  let rows = log[0]?.rows ?? rows0
  const blank = () => Array.from({ length: rows }, () => ' '.repeat(columns))
  const reflow = (g: string[]) =>
    Array.from({ length: rows }, (_, r) => (g[r] ?? '').slice(0, columns).padEnd(columns))
  let main = blank()
  let alt = blank()
  let alternate = false
  let cursorVisible = true
  let x = 0
  let y = 0
  const grid = () => (alternate ? alt : main)
  const set = (row: number, text: string) => {
    grid()[row] = text
  }
  for (const entry of log) {
    if (entry.columns !== columns || entry.rows !== rows) {
      columns = entry.columns
      rows = entry.rows
      main = reflow(main)
      alt = reflow(alt)
      x = Math.min(x, columns - 1)
      y = Math.min(y, rows - 1)
    }
    const s = entry.chunk
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!
      if (ch === '\x1b') {
        const m = CSI.exec(s.slice(i))
        if (!m) throw new Error(`unknown escape at ${JSON.stringify(s.slice(i, i + 8))}`)
        i += m[0].length - 1
        const [, priv, arg, cmd] = m
        if (priv === '?' && arg === '1049') {
          alternate = cmd === 'h'
          if (alternate) alt = blank()
        } else if (priv === '?' && arg === '25') cursorVisible = cmd === 'h'
        else if (cmd === 'H') {
          x = 0
          y = 0
        } else if (cmd === 'K') set(y, grid()[y]!.slice(0, x).padEnd(columns))
        else if (cmd === 'J' && arg === '2') {
          for (let r = 0; r < rows; r++) set(r, ' '.repeat(columns))
        } else if (cmd === 'J') {
          set(y, grid()[y]!.slice(0, x).padEnd(columns))
          for (let r = y + 1; r < rows; r++) set(r, ' '.repeat(columns))
        } else if (cmd !== 'm') throw new Error(`unhandled escape ${m[0]}`)
      } else if (ch === '\r') x = 0
      else if (ch === '\n') y = Math.min(rows - 1, y + 1)
      else {
        if (x >= columns) throw new Error(`line ${y} overflows ${columns} columns`)
        const row = grid()[y]!
        set(y, row.slice(0, x) + ch + row.slice(x + 1))
        x++
      }
    }
  }
  return { lines: grid().map((l) => l.trimEnd()), alternate, cursorVisible }
}

export class FakeIn extends EventEmitter {
  readonly isTTY = true
  readonly rawModes: boolean[] = []
  paused = true
  setRawMode(mode: boolean): this {
    this.rawModes.push(mode)
    return this
  }
  resume(): this {
    this.paused = false
    return this
  }
  pause(): this {
    this.paused = true
    return this
  }
  press(key: string): void {
    this.emit('data', Buffer.from(key))
  }
}

export class FakeProcess extends EventEmitter {}

/** Resolves once `predicate` holds, checking after each write (fails after `ms`). */
export function until(out: FakeOut, predicate: () => boolean, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve()
    const timer = setTimeout(() => {
      out.off('wrote', check)
      reject(
        new Error(`condition not met within ${ms} ms; screen:\n${out.screen().lines.join('\n')}`),
      )
    }, ms)
    const check = () => {
      if (!predicate()) return
      clearTimeout(timer)
      out.off('wrote', check)
      resolve()
    }
    out.on('wrote', check)
  })
}
