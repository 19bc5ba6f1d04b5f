/**
 * Structured logging for the daemon: one JSON object per line (`ts`, `level`, `msg`, fields),
 * appended to `$MESHCC_HOME/logs/daemon.log`. Kept dependency-free so the daemon starts fast.
 * The wrapper path never logs to stdout: it belongs to the compiler.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info', write: (line) => process.stderr.write(line) })
 * log.child({ job: 12 }).info('cache hit', { key })
 * ```
 */
import { appendFileSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerInit {
  level?: LogLevel
  /** Where a finished line goes. Default: appended to `file`, else dropped. */
  write?: (line: string) => void
  /** File to append to (synchronously, so a crash never loses the last lines). */
  file?: string
}

export function createLogger(init: LoggerInit = {}, bound: LogFields = {}): Logger {
  const min = rank[init.level ?? 'info']
  const file = init.file
  const write =
    init.write ??
    (file === undefined
      ? () => {}
      : (line: string) => {
          try {
            appendFileSync(file, line)
          } catch {
            // Logging must never take the daemon down (disk full, directory removed).
          }
        })
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[level] < min) return
    const record = { ts: new Date().toISOString(), level, msg, ...bound, ...fields }
    write(`${JSON.stringify(record, errorReplacer)}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...init, write }, { ...bound, ...fields }),
  }
}

/** A logger that drops everything, for tests and the CLI. */
export const silentLogger: Logger = createLogger({ write: () => {} })

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) }
  }
  if (typeof value === 'bigint') return value.toString()
  return value
}
