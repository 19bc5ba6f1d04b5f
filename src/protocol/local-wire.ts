/**
 * The local wire protocol between the native client (`src/wrapper/native/meshcc.c`), the CLI and
 * the node daemon, over the unix socket `$MESHCC_HOME/run/daemon.sock`.
 *
 * All integers are little-endian; a `str` is a u32 byte length followed by UTF-8 bytes.
 *
 * Compile request (client → daemon):
 * `"MCC1"`, u32 bodyLength, then the body: u32 flags (bit0 stdout is a tty, bit1 stderr is a
 * tty, bit2 the client runs commands for the daemon: `RUN` frames, `client-run-wire.ts`), u32 umask, u32 pid, str cwd, str compiler, u32 argc + argc × str, u32 envc + envc × str
 * (`KEY=VALUE`).
 *
 * Reply frames (daemon → client): u8 type, u32 length, payload. `STDOUT`/`STDERR` carry output
 * bytes (≤ 1 MiB per frame, as many frames as needed); `EXIT` (i32 code) and `EXEC_LOCAL` (UTF-8
 * reason) are final. The client writes all stdout, then all stderr, when `EXIT` arrives, and
 * exits with the code; a negative code -N means "killed by signal N" (the client then dies by
 * that signal). On `EXEC_LOCAL` the client execs the real compiler with its original arguments.
 * `KEEPALIVE` (0x05, empty payload) means "still working on it": the daemon sends one every
 * `keepaliveIntervalMs()` while a compile runs (only before the final frames); clients skip it.
 *
 * Timeouts (a hung daemon must never hang a build): the client gives up when the daemon has been
 * silent for `MESHCC_CLIENT_TIMEOUT` seconds (default `DEFAULT_CLIENT_TIMEOUT_S`; fractions
 * allowed) while connecting, sending the request, or waiting for any reply byte, the first one
 * included. It then compiles locally (fallback reason `daemon-timeout`, or
 * `daemon-connect-timeout` when the daemon never accepted the connection) and, for
 * `HUNG_BACKOFF_S`, sends nothing more to the daemon (reason `daemon-hung-recently`; marker file
 * `run/daemon-hung`, removed by a daemon that starts). The daemon reads the client's
 * `MESHCC_CLIENT_TIMEOUT` from the request's environment and sends keepalives at least four
 * times per timeout, so a short timeout never cuts off a long but healthy compile.
 *
 * Control (CLI ↔ daemon): `"MCJ1"`, u32 length, JSON request; the reply is u32 length + JSON.
 *
 * Decoding validates everything and throws `ProtocolError` / `FrameTooLargeError`; the daemon
 * closes a connection that sent a malformed request. The C client mirrors these constants.
 *
 * @example
 * ```ts
 * const bytes = encodeCompileRequest(request)
 * const header = decodeRequestHeader(bytes) // { kind: 'compile', bodyLength }
 * const back = decodeCompileBody(bytes.subarray(REQUEST_HEADER_BYTES))
 * ```
 */
import { isUtf8 } from 'node:buffer'
import type { CompileReply, CompileRequest } from '../compile/types.ts'
import { FrameTooLargeError, ProtocolError } from '../errors.ts'

export const COMPILE_MAGIC = 'MCC1'
export const CONTROL_MAGIC = 'MCJ1'
/** Magic (4 bytes) + u32 length. */
export const REQUEST_HEADER_BYTES = 8
export const MAX_COMPILE_BODY = 16 * 1024 * 1024
export const MAX_CONTROL_BYTES = 4 * 1024 * 1024
export const MAX_OUTPUT_FRAME = 1024 * 1024
export const MAX_ARGS = 262_144
export const MAX_ENV = 65_536

export const FRAME_STDOUT = 0x01
export const FRAME_STDERR = 0x02
export const FRAME_EXIT = 0x03
export const FRAME_EXEC_LOCAL = 0x04
export const FRAME_KEEPALIVE = 0x05

/** The client's default silence limit, in seconds (`MESHCC_CLIENT_TIMEOUT`; meshcc.c mirrors it). */
export const DEFAULT_CLIENT_TIMEOUT_S = 20
/** Smaller `MESHCC_CLIENT_TIMEOUT` values are raised to this (meshcc.c mirrors it). */
export const MIN_CLIENT_TIMEOUT_S = 0.1
/** How long clients skip a daemon that timed out (meshcc.c mirrors it). */
export const HUNG_BACKOFF_S = 60
/** The longest gap between keepalives, whatever the client's timeout. */
export const MAX_KEEPALIVE_INTERVAL_MS = 2000
const MIN_KEEPALIVE_INTERVAL_MS = 25

/** The whole keepalive frame (type 0x05, length 0): what the daemon writes while it works. */
export const KEEPALIVE_FRAME: Buffer = Buffer.from([FRAME_KEEPALIVE, 0, 0, 0, 0])

/**
 * The keepalive interval for a client whose environment is `env`: a quarter of its
 * `MESHCC_CLIENT_TIMEOUT` (parsed like the C client does), at most `maxMs`.
 */
export function keepaliveIntervalMs(
  env: Readonly<Record<string, string | undefined>>,
  maxMs: number = MAX_KEEPALIVE_INTERVAL_MS,
): number {
  const text = env['MESHCC_CLIENT_TIMEOUT']?.trim() ?? ''
  const timeoutS = text === '' ? Number.NaN : Number(text)
  const quarter =
    Number.isFinite(timeoutS) && timeoutS > 0
      ? (Math.max(MIN_CLIENT_TIMEOUT_S, timeoutS) * 1000) / 4
      : Number.POSITIVE_INFINITY
  return Math.max(MIN_KEEPALIVE_INTERVAL_MS, Math.min(maxMs, quarter))
}

const FLAG_STDOUT_TTY = 1
const FLAG_STDERR_TTY = 2
/** Request flag: the client runs `RUN` frames' commands (`client-run-wire.ts`). */
export const FLAG_CLIENT_RUNS = 4

export type RequestHeader = { kind: 'compile' | 'control'; bodyLength: number }

/** Reads the 8-byte header of a request; `buf` must hold at least `REQUEST_HEADER_BYTES`. */
export function decodeRequestHeader(buf: Uint8Array): RequestHeader {
  if (buf.length < REQUEST_HEADER_BYTES) throw new ProtocolError('truncated request header')
  const magic = String.fromCharCode(buf[0]!, buf[1]!, buf[2]!, buf[3]!)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const bodyLength = view.getUint32(4, true)
  if (magic === COMPILE_MAGIC) {
    if (bodyLength > MAX_COMPILE_BODY) {
      throw new FrameTooLargeError(
        `compile request of ${bodyLength} bytes (limit ${MAX_COMPILE_BODY})`,
      )
    }
    return { kind: 'compile', bodyLength }
  }
  if (magic === CONTROL_MAGIC) {
    if (bodyLength > MAX_CONTROL_BYTES) {
      throw new FrameTooLargeError(
        `control request of ${bodyLength} bytes (limit ${MAX_CONTROL_BYTES})`,
      )
    }
    return { kind: 'control', bodyLength }
  }
  throw new ProtocolError('bad magic: not a meshcc local request')
}

/** Sequential little-endian reader that validates every length against what is left. */
class Reader {
  #buf: Buffer
  #pos = 0
  constructor(buf: Uint8Array) {
    this.#buf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  u32(what: string): number {
    if (this.#pos + 4 > this.#buf.length) throw new ProtocolError(`truncated request: ${what}`)
    const v = this.#buf.readUInt32LE(this.#pos)
    this.#pos += 4
    return v
  }
  str(what: string): string {
    const len = this.u32(what)
    if (len > this.#buf.length - this.#pos) throw new ProtocolError(`truncated request: ${what}`)
    const start = this.#pos
    this.#pos += len
    const bytes = this.#buf.subarray(start, this.#pos)
    if (!isUtf8(bytes)) throw new ProtocolError(`invalid UTF-8 in ${what}`)
    return bytes.toString('utf8')
  }
  /** A count of `str` items, checked against a limit and against the bytes left (≥ 4 each). */
  count(what: string, limit: number): number {
    const n = this.u32(what)
    if (n > limit) throw new ProtocolError(`too many ${what}: ${n} (limit ${limit})`)
    if (n * 4 > this.#buf.length - this.#pos) throw new ProtocolError(`truncated request: ${what}`)
    return n
  }
  end(): void {
    if (this.#pos !== this.#buf.length) throw new ProtocolError('trailing bytes after request')
  }
}

/** Decodes the body of a compile request (everything after the 8-byte header). */
export function decodeCompileBody(body: Uint8Array): CompileRequest {
  if (body.length > MAX_COMPILE_BODY) throw new FrameTooLargeError('compile request too large')
  const r = new Reader(body)
  const flags = r.u32('flags')
  const umask = r.u32('umask')
  const pid = r.u32('pid')
  if (umask > 0o777) throw new ProtocolError(`bad umask ${umask}`)
  const cwd = r.str('cwd')
  const compiler = r.str('compiler')
  if (!cwd.startsWith('/')) throw new ProtocolError('cwd is not absolute')
  if (!compiler.startsWith('/')) throw new ProtocolError('compiler path is not absolute')
  const argc = r.count('arguments', MAX_ARGS)
  const args = new Array<string>(argc)
  for (let i = 0; i < argc; i++) args[i] = r.str('argument')
  const envc = r.count('environment entries', MAX_ENV)
  const env: Record<string, string> = Object.create(null)
  for (let i = 0; i < envc; i++) {
    const entry = r.str('environment entry')
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new ProtocolError('environment entry without KEY=')
    env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  r.end()
  const req: CompileRequest = {
    cwd,
    compiler,
    args,
    env,
    stdoutIsTty: (flags & FLAG_STDOUT_TTY) !== 0,
    stderrIsTty: (flags & FLAG_STDERR_TTY) !== 0,
    umask,
    pid,
  }
  if ((flags & FLAG_CLIENT_RUNS) !== 0) req.clientRuns = true
  return req
}

/** Encodes a whole compile request, header included (the C client's job; used by tests). */
export function encodeCompileRequest(req: CompileRequest): Buffer {
  const strs = [
    req.cwd,
    req.compiler,
    ...req.args,
    ...Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
  ]
  const encoded = strs.map((s) => Buffer.from(s, 'utf8'))
  const bodyLength = 12 + 8 + encoded.reduce((n, b) => n + 4 + b.length, 0)
  const out = Buffer.allocUnsafe(REQUEST_HEADER_BYTES + bodyLength)
  out.write(COMPILE_MAGIC, 0, 'latin1')
  out.writeUInt32LE(bodyLength, 4)
  let pos = 8
  const u32 = (v: number) => {
    out.writeUInt32LE(v, pos)
    pos += 4
  }
  const str = (b: Buffer) => {
    u32(b.length)
    b.copy(out, pos)
    pos += b.length
  }
  u32(
    (req.stdoutIsTty ? FLAG_STDOUT_TTY : 0) |
      (req.stderrIsTty ? FLAG_STDERR_TTY : 0) |
      (req.clientRuns === true ? FLAG_CLIENT_RUNS : 0),
  )
  u32(req.umask)
  u32(req.pid)
  str(encoded[0]!)
  str(encoded[1]!)
  u32(req.args.length)
  for (let i = 0; i < req.args.length; i++) str(encoded[2 + i]!)
  u32(encoded.length - 2 - req.args.length)
  for (let i = 2 + req.args.length; i < encoded.length; i++) str(encoded[i]!)
  return out
}

/** One frame: `u8 type, u32 LE length, payload`. */
export function frame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length)
  out[0] = type
  out.writeUInt32LE(payload.length, 1)
  out.set(payload, 5)
  return out
}

/** The reply as one buffer of frames (one write on the socket: replies are small on a hit). */
export function encodeCompileReply(reply: CompileReply): Buffer {
  if (reply.kind === 'exec-local') return frame(FRAME_EXEC_LOCAL, Buffer.from(reply.reason, 'utf8'))
  const parts: Buffer[] = []
  const chunked = (type: number, data: Uint8Array) => {
    for (let off = 0; off < data.length; off += MAX_OUTPUT_FRAME) {
      parts.push(frame(type, data.subarray(off, off + MAX_OUTPUT_FRAME)))
    }
  }
  chunked(FRAME_STDOUT, reply.stdout)
  chunked(FRAME_STDERR, reply.stderr)
  const code = Buffer.allocUnsafe(4)
  code.writeInt32LE(reply.exitCode, 0)
  parts.push(frame(FRAME_EXIT, code))
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

/**
 * Decodes a complete reply stream back into a `CompileReply` (what the C client does; used by
 * tests and by TypeScript clients), skipping keepalives. Throws on a malformed or unfinished
 * stream.
 */
export function decodeCompileReply(buf: Uint8Array): CompileReply {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  let pos = 0
  while (pos + 5 <= b.length) {
    const type = b[pos]!
    const len = b.readUInt32LE(pos + 1)
    pos += 5
    if (len > MAX_OUTPUT_FRAME) throw new FrameTooLargeError(`reply frame of ${len} bytes`)
    if (pos + len > b.length) break
    const payload = b.subarray(pos, pos + len)
    pos += len
    const final = pos === b.length
    if (type === FRAME_KEEPALIVE && len === 0) continue
    if (type === FRAME_STDOUT) stdout.push(payload)
    else if (type === FRAME_STDERR) stderr.push(payload)
    else if (type === FRAME_EXIT && len === 4 && final) {
      return {
        kind: 'done',
        exitCode: payload.readInt32LE(0),
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr),
      }
    } else if (type === FRAME_EXEC_LOCAL && final && isUtf8(payload)) {
      return { kind: 'exec-local', reason: payload.toString('utf8') }
    } else throw new ProtocolError(`bad reply frame type ${type}`)
  }
  throw new ProtocolError('truncated reply: no final frame')
}

/** A control message (request or reply): magic only on requests, then u32 length + JSON. */
export function encodeControl(value: unknown, { request }: { request: boolean }): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8')
  if (json.length > MAX_CONTROL_BYTES) throw new FrameTooLargeError('control message too large')
  const head = request ? REQUEST_HEADER_BYTES : 4
  const out = Buffer.allocUnsafe(head + json.length)
  if (request) out.write(CONTROL_MAGIC, 0, 'latin1')
  out.writeUInt32LE(json.length, head - 4)
  json.copy(out, head)
  return out
}

/** Parses a control JSON body (after its length prefix). */
export function decodeControlBody(body: Uint8Array): unknown {
  if (body.length > MAX_CONTROL_BYTES) throw new FrameTooLargeError('control message too large')
  if (!isUtf8(body)) throw new ProtocolError('invalid UTF-8 in control message')
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch (err) {
    throw new ProtocolError('control message is not JSON', { cause: err })
  }
}
