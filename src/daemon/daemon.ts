/**
 * The node daemon's local socket server: one long-lived process per `MESHCC_HOME` that serves
 * the native client's compile requests and the CLI's control commands on
 * `$MESHCC_HOME/run/daemon.sock` (protocol: `src/protocol/local-wire.ts`).
 *
 * Start-up order: instance lock (a second daemon for the same home gets
 * `DaemonAlreadyRunningError`), remove a stale socket file, listen (socket 0600 in a 0700
 * directory), write the pid file. A stop (method, `stop` control command, or the abort signal)
 * stops accepting, lets running compiles finish for `drainMs`, aborts the rest, closes the handler
 * (the cache writes of answered misses finish, bounded), then removes the socket and the pid
 * file and releases the lock: a successor daemon's start-up scan sees every entry.
 *
 * Every compile request gets an AbortSignal that fires when its client disconnects (make was
 * interrupted, or the client gave up waiting) or when the daemon stops. While a compile runs the
 * daemon sends KEEPALIVE frames, so the client can tell a long compile from a hung daemon. The
 * per-request path is kept lean: it runs once per compile.
 *
 * @example
 * ```ts
 * const daemon = await startDaemon({ paths, handler, control, log })
 * await daemon.closed // after `meshcc daemon stop`
 * ```
 */
import { chmod, mkdir, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import type { CompileHandler, CompileReply, CompileRequest } from '../compile/types.ts'
import type { NodePaths } from '../config/paths.ts'
import { clientRunner } from './client-runner.ts'
import type { Logger } from './logger.ts'
import {
  decodeCompileBody,
  decodeControlBody,
  decodeRequestHeader,
  encodeCompileReply,
  encodeControl,
  KEEPALIVE_FRAME,
  keepaliveIntervalMs,
  MAX_KEEPALIVE_INTERVAL_MS,
  REQUEST_HEADER_BYTES,
  type RequestHeader,
} from '../protocol/local-wire.ts'
import { type ControlHooks, type DaemonStatus, runControl } from './control.ts'
import { acquireInstanceLockPatiently, removePidFile, writePidFile } from './lifecycle.ts'
import { meshccVersion } from './version.ts'

export interface DaemonInit {
  paths: NodePaths
  handler: CompileHandler
  control: ControlHooks
  log: Logger
  /** How long a stop lets running compiles finish before aborting them (default 5 s). */
  drainMs?: number
  /** How long a stop then lets the handler finish its cache writes (default 10 s). */
  closeHandlerMs?: number
  /** Stop after this long without any request; 0 or absent = never. */
  idleTimeoutMs?: number
  /** While this returns true the daemon does not idle out (a node hosting the mesh). */
  keepAlive?: () => boolean
  /** How long to wait for a previous daemon of this home that is stopping (default 3 s). */
  lockWaitMs?: number
  /** Longest gap between keepalives during a compile (default 2 s; shorter for short client
   * timeouts, see `keepaliveIntervalMs`). */
  keepaliveMs?: number
}

export interface RunningDaemon {
  readonly startedAt: Date
  /** Resolves once the daemon has fully stopped, however the stop was asked for. */
  readonly closed: Promise<void>
  /** Graceful stop; resolves like `closed`. */
  stop(): Promise<void>
  status(): DaemonStatus
}

/** The environment variable the daemon sets for compilers it runs (see the native client). */
export const SAFEGUARD_ENV = '_MESHCC_SAFEGUARD'

export async function startDaemon(
  init: DaemonInit,
  { signal }: { signal?: AbortSignal } = {},
): Promise<RunningDaemon> {
  signal?.throwIfAborted()
  const { paths, handler, log } = init
  const drainMs = init.drainMs ?? 5000
  const keepaliveMaxMs = init.keepaliveMs ?? MAX_KEEPALIVE_INTERVAL_MS
  const runDir = dirname(paths.socket)
  await mkdir(runDir, { recursive: true, mode: 0o700 })
  await chmod(runDir, 0o700)

  const lock = await acquireInstanceLockPatiently(paths, init.lockWaitMs ?? 3000)
  const active = new Set<AbortController>()
  const sockets = new Set<Socket>()
  const startedAt = new Date()
  let served = 0
  let stopping: Promise<void> | undefined
  const closed = Promise.withResolvers<void>()

  const status = (): DaemonStatus => ({
    pid: process.pid,
    version: meshccVersion,
    node: process.version,
    home: paths.home,
    socket: paths.socket,
    startedAt: startedAt.toISOString(),
    uptimeMs: Date.now() - startedAt.getTime(),
    activeRequests: active.size,
    servedRequests: served,
  })

  let lastRequest = Date.now()
  const serveCompile = async (socket: Socket, request: CompileRequest) => {
    const controller = new AbortController()
    const onClose = () => controller.abort(new Error('client disconnected'))
    socket.once('close', onClose)
    active.add(controller)
    served++
    lastRequest = Date.now()
    const t0 = performance.now()
    // "Still working": without it the client cannot tell a long compile from a hung daemon.
    const beat = setInterval(
      () => {
        if (!socket.destroyed) socket.write(KEEPALIVE_FRAME)
      },
      keepaliveIntervalMs(request.env, keepaliveMaxMs),
    )
    // Any compiler the daemon runs for this request must not come back through meshcc.
    request.env[SAFEGUARD_ENV] = '1'
    let reply: CompileReply
    try {
      reply = await handler.handle(request, {
        signal: controller.signal,
        runOnClient: request.clientRuns === true ? clientRunner(socket) : undefined,
      })
    } catch (err) {
      const code = (err as { code?: unknown }).code
      reply = { kind: 'exec-local', reason: typeof code === 'string' ? code : 'daemon-error' }
      if (!controller.signal.aborted) log.warn('compile handler failed', { err, pid: request.pid })
    } finally {
      clearInterval(beat)
      active.delete(controller)
      socket.off('close', onClose)
    }
    log.debug('request', {
      pid: request.pid,
      compiler: request.compiler,
      reply: reply.kind === 'exec-local' ? `exec-local:${reply.reason}` : `exit:${reply.exitCode}`,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    })
    if (!socket.destroyed) socket.end(encodeCompileReply(reply))
  }

  const serveControl = async (socket: Socket, body: Uint8Array) => {
    let stopAfter = false
    const reply = await runControl(decodeControlBody(body), {
      hooks: init.control,
      status,
      requestStop: () => {
        stopAfter = true
      },
    })
    socket.end(encodeControl(reply, { request: false }), () => {
      if (stopAfter) void stop('control')
    })
    if (stopAfter) setTimeout(() => void stop('control'), 200).unref()
  }

  const onConnection = (socket: Socket) => {
    if (stopping) {
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {}) // EPIPE/ECONNRESET from a client that went away: not ours to report
    let chunks: Buffer[] = []
    let have = 0
    let header: RequestHeader | undefined
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      have += chunk.length
      try {
        if (header === undefined) {
          if (have < REQUEST_HEADER_BYTES) return
          header = decodeRequestHeader(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
        }
        const total = REQUEST_HEADER_BYTES + header.bodyLength
        if (have < total) return
        socket.off('data', onData)
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        chunks = []
        if (have > total) throw new Error('bytes after the request')
        const body = all.subarray(REQUEST_HEADER_BYTES, total)
        if (header.kind === 'compile') {
          serveCompile(socket, decodeCompileBody(body)).catch((err) => {
            log.error('compile request crashed', { err })
            socket.destroy()
          })
        } else {
          serveControl(socket, body).catch((err) => {
            log.warn('control request failed', { err })
            socket.destroy()
          })
        }
      } catch (err) {
        log.warn('malformed request; connection closed', { err })
        socket.destroy()
      }
    }
    socket.on('data', onData)
  }

  await rm(paths.socket, { force: true })
  const server: Server = createServer(onConnection)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ path: paths.socket, backlog: 4096 }, () => resolve())
    })
    server.on('error', (err) => log.error('socket server error', { err }))
    await chmod(paths.socket, 0o600)
    await writePidFile(paths)
    // The native client's back-off markers (a daemon failed to come up, or one stopped
    // answering): this one is up and answers.
    await rm(join(runDir, 'start-failed'), { force: true })
    await rm(join(runDir, 'daemon-hung'), { force: true })
  } catch (err) {
    server.close()
    lock.close()
    throw err
  }

  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('daemon stopping', { why, active: active.size })
      server.close()
      // Connections that have not sent a whole request yet will not be served: drop them.
      for (const s of sockets) if (s.listenerCount('data') > 0) s.destroy()
      const deadline = Date.now() + drainMs
      while (active.size > 0 && Date.now() < deadline) await delay(20)
      for (const c of active) c.abort(new Error('daemon stopping'))
      const late = Date.now() + 1000
      while (active.size > 0 && Date.now() < late) await delay(20)
      const closeMs = init.closeHandlerMs ?? 10_000
      await handler
        .close?.({ signal: AbortSignal.timeout(closeMs) })
        .catch((err) => log.warn('closing the compile handler failed', { err }))
      await rm(paths.socket, { force: true }).catch(() => {})
      await removePidFile(paths).catch(() => {})
      lock.close()
      log.info('daemon stopped', { why, served })
      closed.resolve()
    })()
    return stopping
  }
  signal?.addEventListener('abort', () => void stop('signal'), { once: true })
  const idleMs = init.idleTimeoutMs ?? 0
  if (idleMs > 0) {
    const timer = setInterval(
      () => {
        if (init.keepAlive?.() === true) lastRequest = Date.now()
        else if (active.size === 0 && Date.now() - lastRequest >= idleMs) {
          clearInterval(timer)
          void stop('idle')
        }
      },
      Math.min(idleMs, 60_000),
    )
    timer.unref()
    void closed.promise.then(() => clearInterval(timer))
  }

  log.info('daemon listening', { socket: paths.socket, pid: process.pid, version: meshccVersion })
  return {
    startedAt,
    closed: closed.promise,
    stop: () => stop('stop()'),
    status,
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
