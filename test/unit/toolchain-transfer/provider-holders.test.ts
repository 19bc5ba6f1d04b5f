/**
 * The toolchain CID, the provider's bookkeeping (what the advert lists, what the DHT is told),
 * and holder discovery from hints, adverts (also ones arriving later) and DHT records.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { CID } from 'multiformats/cid'
import { toolchainCid, toolchainIdOf } from '../../../src/toolchain-transfer/cid.ts'
import { discoverHolders, type Holder } from '../../../src/toolchain-transfer/holders.ts'
import { ToolchainProvider } from '../../../src/toolchain-transfer/provider.ts'

const idOf = (s: string) => createHash('sha256').update(s).digest('hex')
const peer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('toolchain cid', () => {
  it('is CIDv1 raw over the sha2-256 the id already is, and maps back', () => {
    const id = idOf('manifest bytes')
    const cid = toolchainCid(id)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, 0x55)
    assert.equal(cid.multihash.code, 0x12)
    assert.equal(Buffer.from(cid.multihash.digest).toString('hex'), id)
    assert.equal(toolchainIdOf(cid), id)
    assert.throws(() => toolchainCid('not-an-id'))
  })
})

describe('toolchain provider', () => {
  it('lists complete toolchains, announces, orders by use and withdraws', async () => {
    const [t1, t2, t3] = [idOf('1'), idOf('2'), idOf('3')]
    const provided: string[] = []
    const cancelled: string[] = []
    let changes = 0
    const provider = new ToolchainProvider({
      node: {
        contentRouting: {
          provide: async (cid: CID) => {
            provided.push(toolchainIdOf(cid)!)
          },
        } as never,
        services: {
          dht: {
            cancelReprovide: async (cid: CID) => {
              cancelled.push(toolchainIdOf(cid)!)
            },
          },
        },
      },
      store: {
        list: async () =>
          [
            { id: t1, complete: true },
            { id: t2, complete: false },
          ] as never,
      },
      onChange: () => changes++,
    })
    await provider.start()
    assert.deepEqual(provider.held(), [t1])
    assert.deepEqual(provided, [t1], 'only complete toolchains are provided')
    assert.equal(await provider.announce(t3), true)
    assert.deepEqual(provider.held(), [t3, t1])
    provider.touch(t1)
    assert.deepEqual(provider.held(), [t1, t3])
    await provider.withdraw(t3)
    assert.deepEqual(provider.held(), [t1])
    assert.deepEqual(cancelled, [t3])
    assert.ok(changes >= 4)
    assert.equal(await provider.reprovideAll(), 1)
    provider.stop()
  })

  it('reports a provide that times out and keeps the toolchain listed', async () => {
    const errors: string[] = []
    const provider = new ToolchainProvider({
      node: {
        contentRouting: {
          provide: (_cid: CID, { signal }: { signal: AbortSignal }) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason)),
            ),
        } as never,
        services: { dht: { cancelReprovide: async () => {} } },
      },
      store: { list: async () => [] },
      provideTimeoutMs: 50,
      onError: (id) => errors.push(id),
    })
    const id = idOf('x')
    assert.equal(await provider.announce(id), false)
    assert.deepEqual(errors, [id])
    assert.deepEqual(provider.held(), [id])
    provider.stop()
  })
})

describe('holder discovery', () => {
  it('merges hints, adverts (current and later) and DHT records, each holder once', async () => {
    const id = idOf('tc')
    const [self, hint, adv, late, dhtOnly] = (await Promise.all(
      [1, 2, 3, 4, 5].map(() => peer()),
    )) as [PeerId, PeerId, PeerId, PeerId, PeerId]
    const events = new EventTarget()
    const adverts = new Map<string, readonly string[]>([
      [adv.toString(), [id]],
      [hint.toString(), [id]],
      [dhtOnly.toString(), []],
    ])
    const mesh = {
      node: {
        peerId: self,
        contentRouting: {
          async *findProviders() {
            yield { id: self, multiaddrs: [] }
            yield { id: adv, multiaddrs: [] }
            // A late advert arrives while the DHT query runs.
            events.dispatchEvent(
              new CustomEvent('advert', {
                detail: { peerId: late.toString(), advert: { toolchains: [id] } },
              }),
            )
            yield { id: dhtOnly, multiaddrs: [] }
          },
        } as never,
      },
      adverts: {
        peers: () => [...adverts.keys()],
        get: (p: PeerId | string) => {
          const t = adverts.get(p.toString())
          return t ? ({ advert: { toolchains: t } } as never) : undefined
        },
      },
      addEventListener: events.addEventListener.bind(events),
      removeEventListener: events.removeEventListener.bind(events),
    }
    const found: Holder[] = []
    const stop = new AbortController()
    await discoverHolders(mesh, id, (h) => found.push(h), {
      hintPeers: [hint.toString(), 'garbage'],
      signal: stop.signal,
    })
    stop.abort()
    assert.deepEqual(
      found.map((h) => [h.peerId.toString(), h.via]),
      [
        [hint.toString(), 'hint'],
        [adv.toString(), 'advert'],
        [late.toString(), 'advert'],
        [dhtOnly.toString(), 'dht'],
      ],
    )
  })
})
