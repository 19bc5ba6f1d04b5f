/**
 * Wire form of an advert: UTF-8 JSON, at most 4 KiB, every field type- and range-checked on
 * decode. Gossipsub signs the message with the sender's peer key (StrictSign), so the codec need
 * not carry a signature of its own; it only makes sure nothing malformed reaches the scheduler.
 *
 * An advert also carries the sender's organisation certificate (`cert`, base64, ≈ 0.5 KiB), so a
 * member that is not connected to the sender can still check who it is: the mesh keeps only a
 * bounded set of connections and relays adverts over gossip.
 */
import type { Advert } from './types.ts'

export const MAX_ADVERT_BYTES = 4 * 1024
const MAX_TOOLCHAINS = 64
const MAX_STRING = 128
const MAX_ADDRS = 8
const MAX_ADDR = 256
/** Base64 length of the largest certificate an advert may carry (≈ 2.2 KiB of bytes). */
const MAX_CERT_B64 = 3_000
/** Largest `ttl` that decodes (receivers cap the lifetime lower still). */
const MAX_TTL_MS = 24 * 3600 * 1000

export function encodeAdvert(advert: Advert, cert?: Uint8Array): Uint8Array {
  const wire =
    cert === undefined ? advert : { ...advert, cert: Buffer.from(cert).toString('base64') }
  const bytes = new TextEncoder().encode(JSON.stringify(wire))
  if (bytes.length > MAX_ADVERT_BYTES) {
    throw new RangeError(`advert is ${bytes.length} bytes, more than ${MAX_ADVERT_BYTES}`)
  }
  return bytes
}

export type AdvertDecode =
  | { ok: true; advert: Advert; cert?: Uint8Array }
  | { ok: false; reason: string }

export function decodeAdvert(bytes: Uint8Array): AdvertDecode {
  if (bytes.length > MAX_ADVERT_BYTES) return { ok: false, reason: 'oversize' }
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return { ok: false, reason: 'not JSON' }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'not an object' }
  }
  const o = raw as Record<string, unknown>
  const str = (k: string): string | undefined => {
    const v = o[k]
    return typeof v === 'string' && v.length <= MAX_STRING ? v : undefined
  }
  const num = (k: string, min: number, max: number): number | undefined => {
    const v = o[k]
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined
  }
  const int = (k: string, max: number): number | undefined => {
    const v = num(k, 0, max)
    return v !== undefined && Number.isSafeInteger(v) ? v : undefined
  }
  const toolchains = o['toolchains']
  if (
    !Array.isArray(toolchains) ||
    toolchains.length > MAX_TOOLCHAINS ||
    !toolchains.every((t) => typeof t === 'string' && t.length <= MAX_STRING)
  ) {
    return { ok: false, reason: 'bad toolchains' }
  }
  // Older senders may omit addrs; treat that as none.
  const addrs = o['addrs'] ?? []
  if (
    !Array.isArray(addrs) ||
    addrs.length > MAX_ADDRS ||
    !addrs.every((a) => typeof a === 'string' && a.length <= MAX_ADDR)
  ) {
    return { ok: false, reason: 'bad addrs' }
  }
  const advert = {
    host: str('host'),
    platform: str('platform'),
    arch: str('arch'),
    cores: int('cores', 65_536),
    freeSlots: int('freeSlots', 65_536),
    load: num('load', 0, 1_000),
    queuedJobs: int('queuedJobs', 1_000_000),
    speed: num('speed', 0, 1_000_000),
    toolchains: toolchains as string[],
    version: str('version'),
    certExpiry: int('certExpiry', Number.MAX_SAFE_INTEGER),
    addrs: addrs as string[],
    seq: int('seq', Number.MAX_SAFE_INTEGER),
    ts: int('ts', Number.MAX_SAFE_INTEGER),
  }
  for (const [k, v] of Object.entries(advert)) {
    if (v === undefined) return { ok: false, reason: `bad ${k}` }
  }
  // Optional (older senders omit them): the advert's lifetime and a request for certificates.
  const ttl = o['ttl'] === undefined ? undefined : int('ttl', MAX_TTL_MS)
  if (o['ttl'] !== undefined && ttl === undefined) return { ok: false, reason: 'bad ttl' }
  const needCerts = o['needCerts']
  if (needCerts !== undefined && typeof needCerts !== 'boolean') {
    return { ok: false, reason: 'bad needCerts' }
  }
  const decoded = {
    ...advert,
    ...(ttl === undefined ? {} : { ttl }),
    ...(needCerts === true ? { needCerts } : {}),
  } as Advert
  // Older senders omit the certificate; receivers then use one they hold already, if any.
  const cert = o['cert']
  if (cert === undefined) return { ok: true, advert: decoded }
  if (
    typeof cert !== 'string' ||
    cert.length > MAX_CERT_B64 ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(cert)
  ) {
    return { ok: false, reason: 'bad cert' }
  }
  return { ok: true, advert: decoded, cert: new Uint8Array(Buffer.from(cert, 'base64')) }
}
