/**
 * Commands the native client runs for the daemon (part of the local wire protocol,
 * `local-wire.ts`): the daemon is a large Node process, and forking it for every preprocessor
 * run costs several milliseconds of CPU (page tables of a big address space), more than the
 * preprocessing of a small unit. The native client is a small static program, already waiting
 * in the build's working directory with the build's environment: it forks for almost nothing.
 *
 * A client that can do this sets `FLAG_CLIENT_RUNS` in its compile request. The daemon may then
 * send, before its final frame, one `RUN` frame at a time:
 *
 * - `RUN` (0x06, daemon → client): u32 argc (≥ 1), argc × str; `argv[0]` is the program's
 *   absolute path. The client runs it in the request's cwd with its own environment plus
 *   `_MESHCC_SAFEGUARD`, stdin from /dev/null.
 * - the client answers with `RUN_STDOUT` (0x11) and `RUN_STDERR` (0x12) frames (u8 type, u32
 *   length ≤ `MAX_OUTPUT_FRAME`, bytes), as the program writes, then `RUN_EXIT` (0x13, i32: the
 *   exit code, -N for a death by signal N, `RUN_NOT_STARTED` when it could not be started).
 *
 * Keepalives from the daemon may sit unread while the client runs the command; the client's
 * silence limit does not apply while it runs one. The whole answer is bounded by
 * `MAX_RUN_OUTPUT`; anything malformed (unknown type, oversized frame, a wrong `RUN_EXIT`
 * length, bytes after `RUN_EXIT`) is a `ProtocolError` / `FrameTooLargeError`, and the daemon
 * then closes the connection (the client compiles locally).
 *
 * @example
 * ```ts
 * socket.write(encodeRunFrame(['/usr/bin/gcc', '-E', 'a.c']))
 * const reader = new RunAnswerReader()
 * socket.on('data', (chunk) => { const done = reader.push(chunk); if (done) … })
 * ```
 */
import { isUtf8 } from 'node:buffer'
import { FrameTooLargeError, ProtocolError } from '../errors.ts'
import { frame, MAX_ARGS, MAX_COMPILE_BODY, MAX_OUTPUT_FRAME } from './local-wire.ts'

export { FLAG_CLIENT_RUNS } from './local-wire.ts'

export const FRAME_RUN = 0x06
export const FRAME_RUN_STDOUT = 0x11
export const FRAME_RUN_STDERR = 0x12
export const FRAME_RUN_EXIT = 0x13
/** `RUN_EXIT` status when the program could not be started (fork or exec failed). */
export const RUN_NOT_STARTED = -1000
/** Bound on one command's stdout + stderr as the client sends them back. */
export const MAX_RUN_OUTPUT = 512 * 1024 * 1024

/** Encodes a `RUN` frame for `argv` (argv[0]: the program's absolute path). */
export function encodeRunFrame(argv: readonly string[]): Buffer {
  if (argv.length === 0 || argv.length > MAX_ARGS)
    throw new ProtocolError(`RUN with ${argv.length} arguments`)
  if (!argv[0]?.startsWith('/')) throw new ProtocolError('RUN program path is not absolute')
  const encoded = argv.map((a) => Buffer.from(a, 'utf8'))
  const length = 4 + encoded.reduce((n, b) => n + 4 + b.length, 0)
  if (length > MAX_COMPILE_BODY) throw new FrameTooLargeError(`RUN frame of ${length} bytes`)
  const out = Buffer.allocUnsafe(5 + length)
  out[0] = FRAME_RUN
  out.writeUInt32LE(length, 1)
  out.writeUInt32LE(argv.length, 5)
  let pos = 9
  for (const b of encoded) {
    out.writeUInt32LE(b.length, pos)
    b.copy(out, pos + 4)
    pos += 4 + b.length
  }
  return out
}

/** Decodes a `RUN` frame's payload (what the C client does; used by tests). */
export function decodeRunPayload(payload: Uint8Array): string[] {
  if (payload.length > MAX_COMPILE_BODY) throw new FrameTooLargeError('RUN frame too large')
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (b.length < 4) throw new ProtocolError('truncated RUN frame')
  const argc = b.readUInt32LE(0)
  if (argc === 0 || argc > MAX_ARGS || argc * 4 > b.length - 4)
    throw new ProtocolError(`RUN frame with a bad argument count ${argc}`)
  const argv: string[] = []
  let pos = 4
  for (let i = 0; i < argc; i++) {
    if (pos + 4 > b.length) throw new ProtocolError('truncated RUN frame')
    const len = b.readUInt32LE(pos)
    pos += 4
    if (len > b.length - pos) throw new ProtocolError('truncated RUN frame')
    const bytes = b.subarray(pos, pos + len)
    if (!isUtf8(bytes)) throw new ProtocolError('invalid UTF-8 in a RUN argument')
    argv.push(bytes.toString('utf8'))
    pos += len
  }
  if (pos !== b.length) throw new ProtocolError('trailing bytes in a RUN frame')
  if (!argv[0]!.startsWith('/')) throw new ProtocolError('RUN program path is not absolute')
  return argv
}

/** What the client reports for one command. */
export interface RunAnswer {
  /** Exit code, -N for a death by signal N, `RUN_NOT_STARTED`. */
  status: number
  stdout: Buffer
  stderr: Buffer
}

/** Encodes a whole answer (the C client's job; used by tests). */
export function encodeRunAnswer(answer: RunAnswer): Buffer {
  const parts: Buffer[] = []
  for (const [type, data] of [
    [FRAME_RUN_STDOUT, answer.stdout],
    [FRAME_RUN_STDERR, answer.stderr],
  ] as const)
    for (let off = 0; off < data.length; off += MAX_OUTPUT_FRAME)
      parts.push(frame(type, data.subarray(off, off + MAX_OUTPUT_FRAME)))
  const status = Buffer.allocUnsafe(4)
  status.writeInt32LE(answer.status, 0)
  parts.push(frame(FRAME_RUN_EXIT, status))
  return Buffer.concat(parts)
}

/**
 * Incremental decoder of the client's answer: `push` each chunk read from the socket; it
 * returns the answer once `RUN_EXIT` arrived, undefined before, and throws on anything
 * malformed (including bytes after `RUN_EXIT`, which the client never sends unasked).
 *
 * A preprocessor's output is megabytes in frames that straddle the socket's chunks: payloads are
 * kept as views of the chunks they arrived in and copied once, into the answer, at the end (only
 * a split frame header, at most 4 bytes, is ever carried over between chunks). Copying every
 * partial frame into a growing buffer cost a copy of the whole text and its garbage.
 */
export class RunAnswerReader {
  readonly #max: number
  /** A frame header split across chunks (< 5 bytes). */
  #head: Buffer = Buffer.alloc(0)
  /** The frame being read: its type and the payload bytes still to come. */
  #type = 0
  #left = 0
  /** Views of the stdout / stderr payload bytes, in order. */
  readonly #out: Buffer[] = []
  readonly #err: Buffer[] = []
  #outBytes = 0
  #errBytes = 0
  /** The `RUN_EXIT` payload as it arrives (it may be split too). */
  #exit: Buffer[] = []
  #done = false

  constructor({ maxOutput = MAX_RUN_OUTPUT }: { maxOutput?: number } = {}) {
    this.#max = maxOutput
  }

  push(chunk: Uint8Array): RunAnswer | undefined {
    if (this.#done) throw new ProtocolError('bytes after RUN_EXIT')
    let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    while (b.length > 0) {
      if (this.#left === 0 && this.#type === 0) {
        // A frame header: 5 bytes, perhaps split across chunks.
        if (this.#head.length + b.length < 5) {
          this.#head = Buffer.concat([this.#head, b])
          return undefined
        }
        let h = b
        if (this.#head.length > 0) {
          const need = 5 - this.#head.length
          h = Buffer.concat([this.#head, b.subarray(0, need)])
          b = b.subarray(need)
          this.#head = Buffer.alloc(0)
        } else b = b.subarray(5)
        // An empty output frame is complete at once (RUN_EXIT is never empty).
        if (this.#begin(h[0]!, h.readUInt32LE(1)) === 0) this.#type = 0
        continue
      }
      const take = Math.min(this.#left, b.length)
      const part = b.subarray(0, take)
      b = b.subarray(take)
      this.#left -= take
      if (this.#type === FRAME_RUN_EXIT) {
        this.#exit.push(part)
        if (this.#left > 0) continue
        if (b.length > 0) throw new ProtocolError('bytes after RUN_EXIT')
        this.#done = true
        return {
          status: Buffer.concat(this.#exit).readInt32LE(0),
          stdout: join(this.#out, this.#outBytes),
          stderr: join(this.#err, this.#errBytes),
        }
      }
      if (this.#type === FRAME_RUN_STDOUT) this.#out.push(part)
      else this.#err.push(part)
      if (this.#left === 0) this.#type = 0
    }
    return undefined
  }

  /** Starts a frame; returns its payload length. */
  #begin(type: number, len: number): number {
    if (type === FRAME_RUN_EXIT) {
      if (len !== 4) throw new ProtocolError(`RUN_EXIT of ${len} bytes`)
    } else if (type === FRAME_RUN_STDOUT || type === FRAME_RUN_STDERR) {
      if (len > MAX_OUTPUT_FRAME) throw new FrameTooLargeError(`run output frame of ${len} bytes`)
      if (this.#outBytes + this.#errBytes + len > this.#max)
        throw new FrameTooLargeError(`run output over ${this.#max} bytes`)
      if (type === FRAME_RUN_STDOUT) this.#outBytes += len
      else this.#errBytes += len
    } else throw new ProtocolError(`bad run answer frame type ${type}`)
    this.#type = type
    this.#left = len
    return len
  }
}

/** One buffer of `parts` (`total` bytes): the part itself when there is only one. */
function join(parts: Buffer[], total: number): Buffer {
  if (parts.length === 1) return parts[0]!
  return Buffer.concat(parts, total)
}
