/**
 * The node's persistent libp2p identity: an Ed25519 key in `$MESHCC_HOME/identity/peer.key`
 * (protobuf encoding, mode 0600). The peer id derives from it and organisation certificates bind
 * that peer id, so losing the file means a new identity and a new certificate.
 *
 * @example
 * ```ts
 * const key = await loadOrCreatePeerKey(peerKeyPath(paths.home))
 * ```
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { AbortOptions, PrivateKey } from '@libp2p/interface'
import { PeerKeyError } from '../errors.ts'

/** Where the peer key of the node whose state lives in `home` is kept. */
export function peerKeyPath(home: string): string {
  return join(home, 'identity', 'peer.key')
}

/** Reads the key at `path`, or makes and stores a new Ed25519 key if there is none. */
export async function loadOrCreatePeerKey(
  path: string,
  { signal }: AbortOptions = {},
): Promise<PrivateKey> {
  signal?.throwIfAborted()
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path, { signal })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PeerKeyError(`cannot read ${path}`, { cause: err })
    }
  }
  if (bytes !== undefined) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      if (key.type !== 'Ed25519') throw new Error(`key type ${key.type}, expected Ed25519`)
      return key
    } catch (err) {
      throw new PeerKeyError(`${path} does not hold a valid Ed25519 key`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  // Write under a temporary name and link it into place, so a crash never leaves half a key behind; the
  // `wx` flag and 0600 mode mean the secret is never readable by others, even briefly.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx', signal })
  await chmod(tmp, 0o600)
  try {
    // link() fails if another process created the key meanwhile: then that key wins.
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return loadOrCreatePeerKey(path, signal === undefined ? {} : { signal })
  } finally {
    await unlink(tmp).catch(() => {})
  }
  return key
}
