/**
 * Wire format of `/meshcc/blob/1.0.0`, the protocol that moves toolchains between members.
 *
 * A stream carries any number of request/reply exchanges, one at a time: the fetcher keeps a few
 * streams per holder open and asks for the next piece as soon as a reply is in, so the handshake
 * cost (stream negotiation, admission check) is paid once per stream, not per chunk.
 *
 * Frames are a u32 big-endian length followed by UTF-8 JSON, at most {@link MAX_FRAME_BYTES}:
 *
 * ```
 * request  {"op":"manifest","id":HEX64,"enc":["zstd"]}
 *          {"op":"chunk","file":HEX64,"index":N,"enc":["zstd"]}
 * reply    {"ok":true,"len":N,"size":N,"enc":"identity"|"zstd"}   then len raw bytes
 *          {"ok":false,"error":"not-found"|"bad-request"|"internal"}
 * ```
 *
 * `enc` lists encodings the requester accepts; the holder may compress a piece with zstd when
 * that makes it smaller, and says so. `size` is the piece's decoded size, which the requester
 * already knows for a chunk (from the manifest) and bounds for a manifest, so a reply can never
 * make it allocate more than it expected. Everything is validated field by field; anything odd
 * is a protocol error and ends the stream.
 */
import type { Stream } from '@libp2p/interface'
import type { ByteStream } from '@libp2p/utils'
import { BlobProtocolError } from '../errors.ts'
import { MAX_FILES, MAX_MANIFEST_BYTES } from '../toolchain/limits.ts'

export const BLOB_PROTOCOL = '/meshcc/blob/1.0.0'
export const MAX_FRAME_BYTES = 1024
/** Largest piece body: a manifest (a chunk is at most 4 MiB). */
export const MAX_BODY_BYTES = MAX_MANIFEST_BYTES
/** Bodies go out in slices this size (yamux's and the memory transport's message limit). */
export const SLICE_BYTES = 64 * 1024

export type Encoding = 'identity' | 'zstd'
export const ENCODINGS: readonly Encoding[] = ['identity', 'zstd']

export type BlobRequest =
  | { op: 'manifest'; id: string; enc: Encoding[] }
  | { op: 'chunk'; file: string; index: number; enc: Encoding[] }

export type BlobErrorCode = 'not-found' | 'bad-request' | 'internal'

export type BlobReply =
  | { ok: true; len: number; size: number; enc: Encoding }
  | { ok: false; error: BlobErrorCode }

const HEX64 = /^[0-9a-f]{64}$/
const ERRORS: readonly BlobErrorCode[] = ['not-found', 'bad-request', 'internal']

export function encodeFrame(value: BlobRequest | BlobReply): Uint8Array {
  const json = Buffer.from(JSON.stringify(value), 'utf8')
  if (json.byteLength > MAX_FRAME_BYTES) throw new RangeError('blob frame too large')
  const out = Buffer.allocUnsafe(4 + json.byteLength)
  out.writeUInt32BE(json.byteLength, 0)
  json.copy(out, 4)
  return out
}

/**
 * Reads one frame's JSON; null when the stream ended cleanly before a new frame began.
 * Throws {@link BlobProtocolError} on an oversized or undecodable frame.
 */
export async function readFrame(
  bytes: ByteStream<Stream>,
  stream: Stream,
  { signal }: { signal?: AbortSignal } = {},
): Promise<unknown> {
  let head: Uint8Array
  try {
    head = (await bytes.read({ bytes: 4, ...(signal ? { signal } : {}) })).subarray()
  } catch (err) {
    // The other side half-closed between exchanges: the normal end of a stream.
    if (stream.remoteWriteStatus !== 'writable' && !signal?.aborted) return null
    throw err
  }
  const len = Buffer.from(head.buffer, head.byteOffset, 4).readUInt32BE(0)
  if (len === 0 || len > MAX_FRAME_BYTES)
    throw new BlobProtocolError(`blob frame of ${len} bytes (limit ${MAX_FRAME_BYTES})`)
  const body = (await bytes.read({ bytes: len, ...(signal ? { signal } : {}) })).subarray()
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw new BlobProtocolError('blob frame is not UTF-8 JSON')
  }
}

/** Reads exactly `len` body bytes, in pieces, into one buffer. */
export async function readBody(
  bytes: ByteStream<Stream>,
  len: number,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(len)
  let at = 0
  while (at < len) {
    const want = Math.min(len - at, 1024 * 1024)
    const part = await bytes.read({ bytes: want, ...(signal ? { signal } : {}) })
    for (const buf of part) {
      out.set(buf, at)
      at += buf.byteLength
    }
  }
  return out
}

/**
 * Sends a reply header and its body in slices of at most {@link SLICE_BYTES}, the header sharing
 * the first slice (one transport message for a small piece), waiting for the transport to drain
 * whenever it asks to; `progress` is refreshed after each drain (an idle timer).
 */
export async function sendPiece(
  stream: Stream,
  header: Uint8Array,
  body: Uint8Array = new Uint8Array(0),
  progress?: { refresh(): unknown },
): Promise<void> {
  const firstLen = Math.min(body.byteLength, SLICE_BYTES - header.byteLength)
  const first = Buffer.allocUnsafe(header.byteLength + firstLen)
  first.set(header, 0)
  first.set(body.subarray(0, firstLen), header.byteLength)
  if (!stream.send(first)) {
    await stream.onDrain()
    progress?.refresh()
  }
  for (let at = firstLen; at < body.byteLength; at += SLICE_BYTES) {
    if (!stream.send(body.subarray(at, at + SLICE_BYTES))) {
      await stream.onDrain()
      progress?.refresh()
    }
  }
}

export function parseRequest(v: unknown): BlobRequest {
  if (!isObject(v)) throw bad('request is not an object')
  const enc = parseEncodings(v['enc'])
  if (v['op'] === 'manifest') {
    exact(v, ['op', 'id', 'enc'])
    if (typeof v['id'] !== 'string' || !HEX64.test(v['id'])) throw bad('bad toolchain id')
    return { op: 'manifest', id: v['id'], enc }
  }
  if (v['op'] === 'chunk') {
    exact(v, ['op', 'file', 'index', 'enc'])
    if (typeof v['file'] !== 'string' || !HEX64.test(v['file'])) throw bad('bad file hash')
    const index = v['index']
    // A file of MAX_FILE_BYTES has 4096 chunks; anything beyond is nonsense.
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index > MAX_FILES)
      throw bad('bad chunk index')
    return { op: 'chunk', file: v['file'], index, enc }
  }
  throw bad('unknown op')
}

export function parseReply(v: unknown): BlobReply {
  if (!isObject(v)) throw bad('reply is not an object')
  if (v['ok'] === false) {
    exact(v, ['ok', 'error'])
    const error = v['error']
    return {
      ok: false,
      error: ERRORS.includes(error as BlobErrorCode) ? (error as BlobErrorCode) : 'internal',
    }
  }
  if (v['ok'] !== true) throw bad('reply without ok')
  exact(v, ['ok', 'len', 'size', 'enc'])
  const { len, size, enc } = v
  if (!isLength(len) || !isLength(size)) throw bad('bad reply length')
  if (enc !== 'identity' && enc !== 'zstd') throw bad('unknown encoding')
  if (enc === 'identity' && len !== size) throw bad('identity reply with len != size')
  return { ok: true, len, size, enc }
}

function parseEncodings(v: unknown): Encoding[] {
  if (v === undefined) return ['identity']
  if (!Array.isArray(v) || v.length > 4) throw bad('bad encodings')
  return v.filter((e): e is Encoding => ENCODINGS.includes(e as Encoding))
}

function isLength(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_BODY_BYTES
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function exact(v: Record<string, unknown>, keys: string[]): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw bad(`unknown field '${k}'`)
}

function bad(msg: string): BlobProtocolError {
  return new BlobProtocolError(msg)
}
