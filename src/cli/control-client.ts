/**
 * The CLI's side of the daemon's control channel: one `MCJ1` JSON request per connection on
 * `$MESHCC_HOME/run/daemon.sock`, one length-prefixed JSON reply.
 *
 * @example
 * ```ts
 * const { status } = await controlRequest(paths, 'status', { timeoutMs: 2000 })
 * ```
 */
import { connect } from 'node:net'
import type { NodePaths } from '../config/paths.ts'
import type { ControlCommand } from '../daemon/control.ts'
import { DaemonCommandError, DaemonUnavailableError, FrameTooLargeError } from '../errors.ts'
import { decodeControlBody, encodeControl, MAX_CONTROL_BYTES } from '../protocol/local-wire.ts'

export interface ControlOptions {
  signal?: AbortSignal
  /** Default 5 s: a healthy daemon answers in milliseconds. */
  timeoutMs?: number
}

/** Sends one control command; resolves with the reply's fields (`ok` removed). */
export async function controlRequest(
  paths: NodePaths,
  cmd: ControlCommand,
  { signal, timeoutMs = 5000 }: ControlOptions = {},
): Promise<Record<string, unknown>> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
  const body = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ path: paths.socket })
    const chunks: Buffer[] = []
    let have = 0
    const fail = (err: unknown) => {
      socket.destroy()
      reject(err)
    }
    const onAbort = () =>
      fail(new DaemonUnavailableError(`the daemon did not answer within ${timeoutMs} ms`))
    combined.addEventListener('abort', onAbort, { once: true })
    socket.on('connect', () => socket.write(encodeControl({ cmd }, { request: true })))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const down = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      fail(
        down
          ? new DaemonUnavailableError(`no daemon listens on ${paths.socket}`, { cause: err })
          : err,
      )
    })
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      have += chunk.length
      if (have >= 4) {
        const all = Buffer.concat(chunks)
        const len = all.readUInt32LE(0)
        if (len > MAX_CONTROL_BYTES) fail(new FrameTooLargeError(`control reply of ${len} bytes`))
        else if (have >= 4 + len) {
          combined.removeEventListener('abort', onAbort)
          socket.destroy()
          resolve(all.subarray(4, 4 + len))
        }
      }
    })
    socket.on('close', () => fail(new DaemonUnavailableError('the daemon closed the connection')))
  })
  const reply = decodeControlBody(body) as {
    ok?: unknown
    error?: { message?: string; hint?: string }
  }
  if (reply.ok !== true) {
    const e = reply.error ?? {}
    throw new DaemonCommandError(e.message ?? 'the daemon refused the command', {
      ...(e.hint ? { hint: e.hint } : {}),
    })
  }
  const { ok: _ok, ...rest } = reply as Record<string, unknown>
  return rest
}

/**
 * Whether `err` says that no daemon listens at all (no socket, or nobody behind it), as opposed
 * to one that exists but did not answer in time. Only in the first case may the CLI act on the
 * daemon's files itself (stats.json, the fallback log, the cache directory): a hung daemon
 * still owns them.
 */
export function isDaemonAbsent(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code
  return err instanceof DaemonUnavailableError && (code === 'ENOENT' || code === 'ECONNREFUSED')
}

/** A daemon that exists but did not answer: say what to do about it, keep other errors as they are. */
export function withDaemonHint(err: unknown, paths: NodePaths): unknown {
  if (!(err instanceof DaemonUnavailableError)) return err
  return new DaemonUnavailableError(`${err.message} (${paths.socket})`, {
    cause: err,
    hint: `\`meshcc daemon stop\` ends it, and the next compile starts a fresh one; see ${paths.logDir}/daemon.log`,
  })
}
