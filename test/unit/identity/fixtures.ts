/** Shared fixtures for the identity tests: temp homes, orgs and peer ids. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateSecretKey } from '../../../src/identity/ed25519.ts'
import { orgFromSecretKey } from '../../../src/identity/org-key.ts'
import type { Org } from '../../../src/identity/types.ts'

export async function newPeerId(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

export function newOrg(name = 'acme'): Org {
  return orgFromSecretKey(name, generateSecretKey())
}

export async function tempHome(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-identity-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Parses, edits and re-encodes the canonical JSON TBS of an envelope, keeping the old signature. */
export function tamperTbs(
  bytes: Uint8Array,
  edit: (tbs: Record<string, unknown>) => void,
  encode: (tbs: Record<string, unknown>) => Uint8Array,
): Uint8Array {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(2)
  const tbs = JSON.parse(new TextDecoder().decode(bytes.subarray(6, 6 + len))) as Record<
    string,
    unknown
  >
  edit(tbs)
  const newTbs = encode(tbs)
  const out = new Uint8Array(6 + newTbs.length + 64)
  out.set(bytes.subarray(0, 2), 0)
  new DataView(out.buffer).setUint32(2, newTbs.length)
  out.set(newTbs, 6)
  out.set(bytes.subarray(6 + len), 6 + newTbs.length)
  return out
}
