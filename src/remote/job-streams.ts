/**
 * Job streams to builders, opened one ahead. multistream-select (libp2p v3) negotiates every
 * new stream with a round trip before its first byte, which put 2–2.5 ms between a job's
 * placement and its reservation reaching the builder. So after each job stream taken on a
 * connection, the next one is opened at once in the background and kept as that connection's
 * spare: the next job's reservation goes out on an already negotiated stream.
 *
 * A spare is used only while it is fresh (younger than `maxIdleMs`, well inside the builder's
 * 30 s limit for a reservation to arrive) and its stream fully open; otherwise it is dropped and
 * a stream opened as before. At most one spare per connection, and one only on a connection a
 * job has just used, so an idle client holds nothing on its builders for long.
 *
 * It also remembers, per connection, whether the builder's grants offer `early-start`, so that
 * the next job's head can go in the same write as its reservation (`JobChannel.reserve`).
 * Per connection, not per peer: a builder restarted with other settings comes back on a new one.
 *
 * @example
 * ```ts
 * const streams = new JobStreams()
 * const stream = await streams.open(conn, { signal })
 * ```
 */
import type { Connection, Stream } from '@libp2p/interface'
import { JOB_PROTOCOL } from './job-protocol.ts'

/** A spare older than this is dropped (the builder resets a silent stream after 30 s). */
export const SPARE_MAX_IDLE_MS = 15_000

interface Spare {
  stream: Stream
  openedAt: number
  timer: ReturnType<typeof setTimeout>
}

interface PerConnection {
  spare?: Spare | undefined
  opening?: Promise<void> | undefined
  earlyStart: boolean
}

export class JobStreams {
  readonly #state = new WeakMap<Connection, PerConnection>()
  readonly #maxIdleMs: number
  #closed = false

  constructor({ maxIdleMs = SPARE_MAX_IDLE_MS }: { maxIdleMs?: number } = {}) {
    this.#maxIdleMs = maxIdleMs
  }

  /** A negotiated job stream on `conn`: its fresh spare if it has one, else a new stream. */
  async open(conn: Connection, { signal }: { signal?: AbortSignal } = {}): Promise<Stream> {
    const state = this.#of(conn)
    const spare = state.spare
    state.spare = undefined
    let stream: Stream | undefined
    if (spare !== undefined) {
      clearTimeout(spare.timer)
      if (performance.now() - spare.openedAt < this.#maxIdleMs && isFullyOpen(spare.stream))
        stream = spare.stream
      else spare.stream.abort(new Error('spare job stream went stale'))
    }
    stream ??= await conn.newStream(JOB_PROTOCOL, signal === undefined ? {} : { signal })
    this.#openSpare(conn, state)
    return stream
  }

  /** Whether the last grant on `conn` offered early start. */
  earlyStart(conn: Connection): boolean {
    return this.#state.get(conn)?.earlyStart === true
  }

  /** Records what a grant on `conn` offered. */
  noteGrant(conn: Connection, earlyStart: boolean): void {
    this.#of(conn).earlyStart = earlyStart
  }

  /** Stops opening spares; those open are left to their timers. */
  close(): void {
    this.#closed = true
  }

  #of(conn: Connection): PerConnection {
    let state = this.#state.get(conn)
    if (state === undefined) {
      state = { earlyStart: false }
      this.#state.set(conn, state)
    }
    return state
  }

  #openSpare(conn: Connection, state: PerConnection): void {
    if (this.#closed || state.opening !== undefined || conn.status !== 'open') return
    state.opening = conn
      .newStream(JOB_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      .then(
        (stream) => {
          if (this.#closed || state.spare !== undefined || conn.status !== 'open') {
            stream.abort(new Error('spare job stream not needed'))
            return
          }
          const timer = setTimeout(() => {
            if (state.spare?.stream !== stream) return
            state.spare = undefined
            stream.abort(new Error('spare job stream unused'))
          }, this.#maxIdleMs)
          timer.unref?.()
          state.spare = { stream, openedAt: performance.now(), timer }
        },
        () => {
          // No spare this time: the next job opens its stream itself.
        },
      )
      .finally(() => {
        state.opening = undefined
      })
  }
}

function isFullyOpen(stream: Stream): boolean {
  return (
    stream.status === 'open' &&
    stream.writeStatus === 'writable' &&
    stream.remoteReadStatus === 'readable'
  )
}
