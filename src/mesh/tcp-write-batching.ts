/**
 * TCP with batched socket writes: every buffer the stack above hands the socket in one turn of
 * the event loop leaves in one `writev` instead of one `write` each.
 *
 * Without it each yamux frame costs at least two system calls (Noise writes its 2-byte length
 * and the ciphertext as separate buffers, and a frame built from several buffers, as
 * length-prefixed messages are, adds one per buffer), and a remote job sends a dozen frames each
 * way (stream open, protocol negotiation, a window update for every data frame received, data,
 * half-close). On loopback or a LAN each call also pays the receiver's side of the delivery, so
 * this was several milliseconds of CPU per job on each side.
 *
 * The socket is corked at the first write of a turn and uncorked on the next tick, after the
 * microtasks that run in the same turn (Node runs the tick queue after them), so a burst of
 * frames written by promise continuations goes out together, and nothing waits for a timer.
 * Backpressure is unchanged: a corked socket still reports `write()` over its high-water mark,
 * and the connection waits for `drain` as before.
 */
import type { Socket } from 'node:net'
import type {
  CreateListenerOptions,
  DialTransportOptions,
  MultiaddrConnection,
  Transport,
  Upgrader,
} from '@libp2p/interface'

type TransportFactory<C> = (components: C) => Transport

/** Wraps a TCP transport factory (`tcp(...)`) so that its connections batch their writes. */
export function batchedWrites<C>(factory: TransportFactory<C>): TransportFactory<C> {
  return (components) => {
    const transport = factory(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = (ma, options: DialTransportOptions) =>
      dial(ma, { ...options, upgrader: batching(options.upgrader) })
    transport.createListener = (options: CreateListenerOptions) =>
      createListener({ ...options, upgrader: batching(options.upgrader) })
    return transport
  }
}

/** The upgrader, patching each raw connection before it is upgraded (Noise, yamux). */
function batching(upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'upgradeInbound' || key === 'upgradeOutbound')
        return (maConn: MultiaddrConnection, ...rest: unknown[]) => {
          corkWrites(maConn)
          return (value as (...a: unknown[]) => unknown).call(target, maConn, ...rest)
        }
      return (value as (...a: unknown[]) => unknown).bind(target)
    },
  })
}

interface SocketConnection {
  socket?: unknown
  sendData?: (data: unknown) => unknown
}

/** Corks the connection's socket at its first write of a turn, uncorks on the next tick. */
export function corkWrites(maConn: MultiaddrConnection): boolean {
  const conn = maConn as unknown as SocketConnection
  const socket = conn.socket as Socket | undefined
  const send = conn.sendData
  if (
    socket === undefined ||
    typeof socket.cork !== 'function' ||
    typeof socket.uncork !== 'function' ||
    typeof send !== 'function'
  )
    return false
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  conn.sendData = function (this: unknown, data: unknown) {
    if (!corked && !socket.destroyed) {
      corked = true
      socket.cork()
      process.nextTick(uncork)
    }
    return send.call(this, data)
  }
  return true
}
