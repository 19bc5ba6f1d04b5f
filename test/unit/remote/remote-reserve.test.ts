/**
 * The daemon's ReserveFn: a member our own accounting shows full is not asked (no dial at all);
 * otherwise the builder is asked on a job stream of the open connection, and network trouble
 * or a builder that does not speak the job protocol rejects (the placement counts the member
 * unreachable).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { JobDialer } from '../../../src/remote/remote-executor.ts'
import { remoteReserve } from '../../../src/remote/remote-reserve.ts'
import type { Placement } from '../../../src/scheduler/placement.ts'

const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const TC = 'ef'.repeat(32)

function dialer(newStream: () => Promise<never>) {
  const calls = { dials: 0, streams: 0 }
  const node: JobDialer = {
    dial: async () => {
      calls.dials++
      return {
        remotePeer: peer,
        newStream: async () => {
          calls.streams++
          return newStream()
        },
      } as unknown as Connection
    },
  }
  return { node, calls }
}

const placement = (room: boolean) => () => ({ hasRoom: () => room }) as unknown as Placement

describe('remoteReserve', () => {
  it('does not ask a member our accounting shows full', async () => {
    const { node, calls } = dialer(async () => assert.fail('asked'))
    const r = await remoteReserve(node, placement(false))(peer.toString(), { toolchain: TC }, {})
    assert.deepEqual(r, { granted: false, reason: 'no-room' })
    assert.equal(calls.dials, 0)
  })

  it('rejects when the builder cannot be asked', async () => {
    const { node, calls } = dialer(async () => {
      throw new Error('stream reset')
    })
    await assert.rejects(
      remoteReserve(node, placement(true))(peer.toString(), { toolchain: TC }, {}),
      /stream reset/,
    )
    assert.equal(calls.streams, 1)
  })

  it('rejects when the builder does not know the job protocol', async () => {
    const { node, calls } = dialer(async () => {
      const err = new Error('protocol selection failed')
      err.name = 'UnsupportedProtocolError'
      throw err
    })
    await assert.rejects(
      remoteReserve(node, placement(true))(peer.toString(), { toolchain: TC }, {}),
      /protocol selection failed/,
    )
    assert.equal(calls.streams, 1)
  })
})
