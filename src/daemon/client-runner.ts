/**
 * The daemon's half of "the client runs it" (`protocol/client-run-wire.ts`): a `ClientRunner`
 * bound to one compile connection. Forking the daemon (a large Node process) costs several
 * milliseconds of CPU per child; the waiting native client forks for almost nothing, in the
 * request's cwd and environment already.
 *
 * One command at a time per connection (later calls wait their turn). The promise rejects when
 * the request is aborted or the connection closes; a malformed answer destroys the connection
 * (the client then compiles locally) and rejects. A program the client could not start rejects
 * with `ClientRunFailedError`, so the caller can run it itself instead.
 *
 * @example
 * ```ts
 * const run = clientRunner(socket)
 * const r = await run(['/usr/bin/gcc', '-E', 'a.c'], { signal })
 * ```
 */
import type { Socket } from 'node:net'
import { constants } from 'node:os'
import type { ClientRunner } from '../compile/types.ts'
import { ClientRunFailedError } from '../errors.ts'
import { encodeRunFrame, RUN_NOT_STARTED, RunAnswerReader } from '../protocol/client-run-wire.ts'

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
)

export function clientRunner(socket: Socket): ClientRunner {
  let turn: Promise<unknown> = Promise.resolve()
  // A run that ended without its whole answer (aborted) may still have frames coming: the
  // connection cannot carry another one.
  let unfinished = false
  let running = 0
  const start = (argv: readonly string[], signal: AbortSignal | undefined) => {
    if (unfinished) throw new ClientRunFailedError('an earlier command on this client was cut')
    return runOnce(socket, argv, signal).catch((err: unknown) => {
      if (!(err instanceof ClientRunFailedError)) unfinished = true
      throw err
    })
  }
  return (argv, { signal } = {}) => {
    // Nothing queued: the frame goes out now, in this turn of the event loop, so the client
    // starts the program before whatever the daemon does next (a slot reservation's encryption
    // and writes delayed it by 1.5–3.5 ms).
    const mine =
      running === 0 ? (async () => start(argv, signal))() : turn.then(() => start(argv, signal))
    running++
    // Registered before the caller's own reactions: idle again by the time the caller resumes.
    const settled = () => {
      running--
    }
    turn = mine.then(settled, settled)
    return mine
  }
}

function runOnce(
  socket: Socket,
  argv: readonly string[],
  signal: AbortSignal | undefined,
): ReturnType<ClientRunner> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  if (socket.destroyed || !socket.writable)
    return Promise.reject(new ClientRunFailedError('the client connection is closed'))
  const frame = encodeRunFrame(argv)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const reader = new RunAnswerReader()
    const done = () => {
      socket.off('data', onData)
      socket.off('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    const onData = (chunk: Buffer) => {
      let answer: ReturnType<RunAnswerReader['push']>
      try {
        answer = reader.push(chunk)
      } catch (err) {
        done()
        socket.destroy()
        reject(err)
        return
      }
      if (answer === undefined) return
      done()
      if (answer.status === RUN_NOT_STARTED) {
        reject(new ClientRunFailedError(`the client could not start ${argv[0]}`))
        return
      }
      const killed = answer.status < 0 ? SIGNAL_NAMES.get(-answer.status) : undefined
      resolve({
        exitCode: answer.status < 0 ? -1 : answer.status,
        signal: answer.status < 0 ? (killed ?? 'SIGKILL') : null,
        stdout: answer.stdout,
        stderr: answer.stderr,
        ms: performance.now() - started,
      })
    }
    const onClose = () => {
      done()
      reject(new ClientRunFailedError('the client went away while running a command'))
    }
    const onAbort = () => {
      done()
      reject(signal?.reason)
    }
    socket.on('data', onData)
    socket.once('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.write(frame)
  })
}
