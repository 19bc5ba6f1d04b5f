/**
 * Guard for meshcc's own stream protocols (compile, cache, toolchain transfer): a handler wrapped
 * with {@link requireMember} runs only for streams on connections that passed admission, so no
 * protocol is ever served to an outsider. A stream that arrives while its connection's
 * certificate exchange is still running waits for it (up to `waitMs`); anything else is aborted.
 * (libp2p's `node.use` middleware is not used: see libp2p/js-libp2p#3534.)
 *
 * @example
 * ```ts
 * await mesh.node.handle('/meshcc/compile/1.0.0', requireMember(mesh.admission, onCompile, {
 *   role: 'builder',
 * }))
 * ```
 */
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { AdmissionRefusedError } from '../errors.ts'
import type { Admission } from './admission.ts'

export interface RequireMemberOptions {
  /** A role the member's certificate must carry (e.g. `builder` to accept compile jobs). */
  role?: string
  /** How long a stream may wait for its connection's admission. Default 5 s. */
  waitMs?: number
}

export function requireMember(
  admission: Admission,
  handler: (stream: Stream, connection: Connection) => void | Promise<void>,
  { role, waitMs = 5_000 }: RequireMemberOptions = {},
): StreamHandler {
  return async (stream, connection) => {
    // Almost every stream comes on a connection admitted long before: no timer for those.
    const admitted =
      admission.admitted(connection) ||
      (await admission.whenMember(connection, { signal: AbortSignal.timeout(waitMs) }))
    const cert = admission.member(connection.remotePeer)?.cert
    if (!admitted || cert === undefined) {
      stream.abort(new AdmissionRefusedError('not an admitted member'))
      return
    }
    if (role !== undefined && !cert.roles.includes(role)) {
      stream.abort(new AdmissionRefusedError(`certificate lacks the ${role} role`))
      return
    }
    await handler(stream, connection)
  }
}
