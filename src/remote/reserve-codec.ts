/**
 * The bytes of the reservation that opens a job stream (see `job-protocol.ts`): one small UTF-8
 * JSON request and one response, each at most {@link MAX_RESERVE_MESSAGE} bytes. Every field is type-checked
 * and bounded; unknown fields are ignored (a newer peer may add optional ones), an unknown
 * version is refused.
 */
import { JobCodecError } from '../errors.ts'
import { arr, hex64, int, obj, oneOf, str } from './job-fields.ts'

export const RESERVE_VERSION = 1
/** Largest reservation message either way, bytes. */
export const MAX_RESERVE_MESSAGE = 512
/** Longest estimate a client may state (a day), and the longest TTL a builder may grant. */
const MAX_ESTIMATE_MS = 86_400_000
const MAX_TTL_MS = 60_000

export interface ReserveRequest {
  v: number
  /** Toolchain id of the job (a builder may prefer members' jobs whose toolchain it holds). */
  toolchain: string
  estimateMs?: number
}

export type ReserveStatus = 'granted' | 'busy' | 'refused'
const STATUSES: readonly string[] = ['granted', 'busy', 'refused']

export type ReserveResponse =
  | { v: number; status: 'granted'; ttlMs: number; features?: string[] }
  | { v: number; status: 'busy' | 'refused' }

/**
 * Offered in a grant: the job may come as a head first and its input later (`MSG_HEAD`,
 * `job-codec.ts`), so the builder starts the compile while the client still preprocesses.
 */
export const EARLY_START = 'early-start'
const MAX_FEATURES = 8

function encode(x: unknown): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(x), 'utf8')
  if (bytes.length > MAX_RESERVE_MESSAGE)
    throw new JobCodecError(`reservation message of ${bytes.length} bytes is over the limit`)
  return bytes
}

function decode(msg: Uint8Array): Record<string, unknown> {
  if (msg.byteLength > MAX_RESERVE_MESSAGE)
    throw new JobCodecError(`reservation message of ${msg.byteLength} bytes is over the limit`)
  let x: unknown
  try {
    x = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(msg))
  } catch (cause) {
    throw new JobCodecError('reservation message is not UTF-8 JSON', { cause })
  }
  const h = obj('reservation', x)
  const v = int('v', h['v'], 1, 1_000)
  if (v !== RESERVE_VERSION)
    throw new JobCodecError(
      `reservation version ${v} unknown (this node speaks ${RESERVE_VERSION})`,
    )
  return h
}

/** The reservation sent for a job of `toolchain` (its estimate bounded as the codec wants). */
export function reserveRequest(request: {
  toolchain: string
  estimateMs?: number
}): ReserveRequest {
  const req: ReserveRequest = { v: RESERVE_VERSION, toolchain: request.toolchain }
  if (request.estimateMs !== undefined && Number.isFinite(request.estimateMs))
    req.estimateMs = Math.min(MAX_ESTIMATE_MS, Math.max(0, Math.round(request.estimateMs)))
  return req
}

export function encodeReserveRequest(r: ReserveRequest): Uint8Array {
  return encode(checkRequest(r as unknown as Record<string, unknown>))
}

export function decodeReserveRequest(msg: Uint8Array): ReserveRequest {
  return checkRequest(decode(msg))
}

function checkRequest(h: Record<string, unknown>): ReserveRequest {
  const r: ReserveRequest = { v: RESERVE_VERSION, toolchain: hex64('toolchain', h['toolchain']) }
  if (h['estimateMs'] !== undefined)
    r.estimateMs = int('estimateMs', h['estimateMs'], 0, MAX_ESTIMATE_MS)
  return r
}

export function encodeReserveResponse(r: ReserveResponse): Uint8Array {
  return encode(checkResponse(r as unknown as Record<string, unknown>))
}

export function decodeReserveResponse(msg: Uint8Array): ReserveResponse {
  return checkResponse(decode(msg))
}

function checkResponse(h: Record<string, unknown>): ReserveResponse {
  const status = oneOf('status', h['status'], STATUSES) as ReserveStatus
  if (status !== 'granted') return { v: RESERVE_VERSION, status }
  const granted: ReserveResponse = {
    v: RESERVE_VERSION,
    status,
    ttlMs: int('ttlMs', h['ttlMs'], 1, MAX_TTL_MS),
  }
  if (h['features'] !== undefined)
    granted.features = arr('features', h['features'], MAX_FEATURES).map((f, i) =>
      str(`features[${i}]`, f, 32),
    )
  return granted
}
