/**
 * The blob protocol's two halves over an in-memory stream pair: the server answers from a real
 * store, the client session checks replies before reading bodies.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { byteStream, streamPair } from '@libp2p/utils'
import { BlobProtocolError, ToolchainNotFoundError } from '../../../src/errors.ts'
import { ToolchainStore } from '../../../src/toolchain/store.ts'
import { BlobSession } from '../../../src/toolchain-transfer/blob-client.ts'
import { blobHandler } from '../../../src/toolchain-transfer/blob-protocol.ts'
import { encodeFrame, readFrame } from '../../../src/toolchain-transfer/wire.ts'
import {
  makeToolchain,
  type SyntheticToolchain,
  storeToolchain,
} from '../../helpers/toolchain-fixture.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshcc-blob-'))
after(() => rm(dir, { recursive: true, force: true }))
let store: ToolchainStore
let tc: SyntheticToolchain
let fakeConn: Connection

before(async () => {
  store = new ToolchainStore(join(dir, 'store'))
  tc = makeToolchain({ bigFiles: [5.2], smallFiles: 3, compressible: true })
  await storeToolchain(store, tc)
  fakeConn = {
    remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
  } as unknown as Connection
})

async function pair(served: { n: number } = { n: 0 }): Promise<[Stream, Promise<void>]> {
  const [client, server] = await streamPair()
  const done = blobHandler(store, { onServed: () => served.n++ })(server, fakeConn)
  return [client, done]
}

describe('blob protocol', () => {
  it('serves the manifest and every chunk, identity and zstd, on one stream', async () => {
    for (const compress of [false, true]) {
      const [stream, done] = await pair()
      const s = new BlobSession(stream, 'holder', { compress })
      assert.deepEqual(Buffer.from(await s.manifest(tc.id)), Buffer.from(tc.bytes))
      const refs = await new ToolchainStore(join(dir, `empty-${compress}`)).putManifest(tc.bytes)
      assert.equal(refs, tc.id)
      const big = tc.manifest.files.find((f) => f.chunks)!
      const content = tc.contents.get(big.path)!
      for (let i = 0; i < big.chunks!.length; i++) {
        const want = content.subarray(i * 1048576, (i + 1) * 1048576)
        const got = await s.chunk(big.sha256, i, want.byteLength)
        assert.ok(Buffer.from(got).equals(want), `chunk ${i}`)
      }
      if (compress) assert.ok(s.wireBytes < content.byteLength / 2, `compressed: ${s.wireBytes}`)
      else assert.ok(s.wireBytes >= content.byteLength)
      await s.close()
      await done
    }
  })

  it('answers not-found and keeps the stream usable', async () => {
    const [stream, done] = await pair()
    const s = new BlobSession(stream, 'holder')
    await assert.rejects(s.manifest('f'.repeat(64)), ToolchainNotFoundError)
    await assert.rejects(s.chunk('e'.repeat(64), 0, 10), ToolchainNotFoundError)
    const small = tc.manifest.files.find((f) => !f.chunks)!
    const got = await s.chunk(small.sha256, 0, small.size)
    assert.ok(Buffer.from(got).equals(tc.contents.get(small.path)!))
    await s.close()
    await done
  })

  it('refuses a reply whose size differs from what the manifest says, before reading it', async () => {
    const [stream, done] = await pair()
    const s = new BlobSession(stream, 'holder')
    const small = tc.manifest.files.find((f) => !f.chunks)!
    await assert.rejects(s.chunk(small.sha256, 0, small.size + 1), BlobProtocolError)
    assert.equal(s.broken, true)
    await done
  })

  it('ends the stream on a malformed or oversized request', async () => {
    for (const bad of [
      encodeFrame({ op: 'chunk', file: 'x', index: 0, enc: [] } as never),
      Buffer.from([0, 0, 0x10, 0]),
    ]) {
      const [stream, done] = await pair()
      const bytes = byteStream(stream)
      stream.send(bad)
      if (bad.byteLength > 4) {
        const reply = await readFrame(bytes, stream)
        assert.deepEqual(reply, { ok: false, error: 'bad-request' })
      }
      await done
      await assert.rejects(
        (async () => {
          for (let i = 0; i < 50; i++) {
            await readFrame(bytes, stream, { signal: AbortSignal.timeout(2_000) }).then((v) => {
              if (v === null) throw new Error('closed')
            })
          }
        })(),
      )
    }
  })
})
