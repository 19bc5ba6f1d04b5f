/**
 * The multi-peer scheduler with fake holders (no network): load spreads by speed, a slow holder
 * cannot hold back the end, a lying holder is dropped, a holder lacking pieces is routed around,
 * and a transfer no live holder can finish fails instead of hanging.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { ToolchainIntegrityError, ToolchainNotFoundError } from '../../../src/errors.ts'
import type { ChunkRef } from '../../../src/toolchain/store.ts'
import type { BlobSession } from '../../../src/toolchain-transfer/blob-client.ts'
import { Swarm } from '../../../src/toolchain-transfer/swarm.ts'

const pieces = Array.from({ length: 24 }, (_, i) => Buffer.alloc(1000, i))
const refs: ChunkRef[] = pieces.map((p, i) => ({
  fileSha256: 'f'.repeat(64),
  index: i,
  sha256: createHash('sha256').update(p).digest('hex'),
  size: p.byteLength,
}))

/** A sink that verifies like the store does. */
function sink() {
  const got = new Map<number, Buffer>()
  return {
    got,
    writeChunk: async (_f: string, i: number, b: Uint8Array) => {
      if (createHash('sha256').update(b).digest('hex') !== refs[i]!.sha256)
        throw new ToolchainIntegrityError('bad chunk')
      got.set(i, Buffer.from(b))
    },
  }
}

interface FakeOpts {
  delayMs?: number
  tamper?: boolean
  lacks?: (i: number) => boolean
}

function fake({ delayMs = 1, tamper = false, lacks }: FakeOpts) {
  const asked: number[] = []
  const chunk = async (
    _f: string,
    i: number,
    _size: number,
    { signal }: { signal?: AbortSignal },
  ) => {
    asked.push(i)
    // Like a real session: an abort ends the request at once.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, delayMs)
      signal?.addEventListener('abort', () => {
        clearTimeout(t)
        reject(signal.reason)
      })
    })
    if (lacks?.(i)) throw new ToolchainNotFoundError('lacks it')
    const b = Buffer.from(pieces[i]!)
    if (tamper) b[0]! ^= 1
    return b
  }
  const open = async () =>
    ({
      wireBytes: 0,
      chunk,
      chunkPacked: async (f: string, i: number, size: number, o: { signal?: AbortSignal }) => ({
        bytes: await chunk(f, i, size, o),
        packed: undefined,
      }),
      abort: () => {},
      close: async () => {},
    }) as unknown as BlobSession
  return { open, asked }
}

const stuck = () => new Error('stuck')

describe('swarm', () => {
  it('spreads pieces by speed and finishes every piece once', async () => {
    const s = sink()
    const fast = fake({ delayMs: 1 })
    const slow = fake({ delayMs: 25 })
    const swarm = new Swarm({ sink: s, refs, perPeer: 2 })
    swarm.addPeer('fast', fast.open)
    swarm.addPeer('slow', slow.open)
    await swarm.run({ canGrow: () => false }, stuck)
    assert.equal(s.got.size, refs.length)
    const st = swarm.stats()
    assert.ok(st['fast']!.chunks > st['slow']!.chunks, JSON.stringify(st))
    assert.equal(st['fast']!.chunks + st['slow']!.chunks, refs.length)
  })

  it('end game: the last pieces held by a very slow holder are fetched again elsewhere', async () => {
    const s = sink()
    const snail = fake({ delayMs: 2_000 })
    const quick = fake({ delayMs: 1 })
    const swarm = new Swarm({ sink: s, refs, perPeer: 2 })
    swarm.addPeer('snail', snail.open)
    swarm.addPeer('quick', quick.open)
    const t0 = Date.now()
    await swarm.run({ canGrow: () => false }, stuck)
    assert.ok(Date.now() - t0 < 1_500, 'did not wait for the snail')
    assert.equal(s.got.size, refs.length)
    for (const i of snail.asked) assert.ok(quick.asked.includes(i), `piece ${i} duplicated`)
  })

  it('drops a holder whose chunk fails verification and completes from the others', async () => {
    const s = sink()
    const liar = fake({ tamper: true })
    const honest = fake({ delayMs: 3 })
    const dropped: string[] = []
    const swarm = new Swarm({
      sink: s,
      refs,
      perPeer: 2,
      onDrop: (p, reason) => dropped.push(`${p}: ${reason}`),
    })
    swarm.addPeer('liar', liar.open)
    swarm.addPeer('honest', honest.open)
    await swarm.run({ canGrow: () => false }, stuck)
    assert.equal(s.got.size, refs.length)
    assert.equal(dropped.length, 1)
    assert.match(dropped[0]!, /^liar: .*verification/)
    assert.equal(swarm.stats()['liar']!.chunks, 0)
    assert.ok(liar.asked.length > 0)
  })

  it('routes around pieces a holder lacks', async () => {
    const s = sink()
    const half = fake({ lacks: (i) => i % 2 === 0 })
    const other = fake({ delayMs: 5, lacks: (i) => i % 2 === 1 })
    const swarm = new Swarm({ sink: s, refs, perPeer: 2, maxNotFound: 100 })
    swarm.addPeer('half', half.open)
    swarm.addPeer('other', other.open)
    await swarm.run({ canGrow: () => false }, stuck)
    assert.equal(s.got.size, refs.length)
  })

  it('fails, rather than hangs, when no live holder can finish', async () => {
    const s = sink()
    const liar = fake({ tamper: true })
    const swarm = new Swarm({ sink: s, refs, perPeer: 2 })
    swarm.addPeer('liar', liar.open)
    await assert.rejects(swarm.run({ canGrow: () => false }, stuck), /stuck/)
    assert.equal(s.got.size, 0)
  })
})
