/**
 * The DHT key of a toolchain: a CID v1 with the raw codec (0x55) over the sha2-256 multihash
 * (0x12) of the manifest bytes. The toolchain id already is that SHA-256 in hex, so the CID is
 * made from the id alone, and every member derives the same key without the manifest.
 */
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { ToolchainNotFoundError } from '../errors.ts'

const RAW = 0x55
const SHA2_256 = 0x12
const HEX64 = /^[0-9a-f]{64}$/

export function toolchainCid(id: string): CID {
  if (!HEX64.test(id)) throw new ToolchainNotFoundError(`'${id}' is not a toolchain id`)
  return CID.createV1(RAW, Digest.create(SHA2_256, Buffer.from(id, 'hex')))
}

/** The toolchain id a CID names, or undefined when it is not a toolchain key. */
export function toolchainIdOf(cid: CID): string | undefined {
  if (cid.version !== 1 || cid.code !== RAW || cid.multihash.code !== SHA2_256) return undefined
  if (cid.multihash.digest.byteLength !== 32) return undefined
  return Buffer.from(cid.multihash.digest).toString('hex')
}
