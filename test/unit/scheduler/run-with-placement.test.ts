import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Placement, type PlacementInit } from '../../../src/scheduler/placement.ts'
import { seededRandom } from '../../../src/scheduler/random.ts'
import {
  type RemoteResult,
  type RemoteSlot,
  runWithPlacement,
} from '../../../src/scheduler/run-with-placement.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'
import { FakeBuilders, JOB, view } from './fixtures.ts'

interface Out {
  exit: number
  by: string
}

function setup(over: Partial<PlacementInit> = {}) {
  const clock = new VirtualClock()
  const builders = new FakeBuilders(clock, { a: 4, b: 4, c: 4 })
  const placement = new Placement({
    clock,
    reserve: builders.reserve,
    members: () => [view('a'), view('b'), view('c')],
    localSlots: 1,
    mode: 'remote',
    random: seededRandom(2),
    ...over,
  })
  const calls = { local: 0, remote: [] as string[] }
  const local = async () => {
    calls.local++
    await clock.sleep(100)
    return { exit: 0, by: 'local' }
  }
  return { clock, builders, placement, calls, local }
}

/** Runs the virtual clock until `p` settles. */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false
  const mark = () => {
    done = true
  }
  p.then(mark, mark)
  for (let i = 0; i < 10_000 && !done; i++) await clock.advance(10)
  return p
}

describe('runWithPlacement', () => {
  it('returns a remote compile error as is, without retrying', async () => {
    const { clock, placement, calls, local } = setup()
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          return { kind: 'compiled', result: { exit: 1, by: slot.peer } }
        },
      }),
    )
    assert.equal(report.result.exit, 1)
    assert.equal(report.where, 'remote')
    assert.equal(report.peer, calls.remote[0])
    assert.equal(calls.remote.length, 1)
    assert.equal(calls.local, 0)
    assert.equal(report.fallback, undefined)
    assert.equal(placement.inFlight.running(report.peer!), 0, 'slot released')
  })

  it('retries an infrastructure failure on another member', async () => {
    const { clock, placement, calls, local } = setup()
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          if (calls.remote.length === 1) return { kind: 'infra', failure: 'toolchain-missing' }
          return { kind: 'compiled', result: { exit: 0, by: slot.peer } }
        },
      }),
    )
    assert.equal(calls.remote.length, 2)
    assert.notEqual(calls.remote[0], calls.remote[1])
    assert.equal(report.peer, calls.remote[1])
    assert.deepEqual(
      report.attempts.map((a) => a.outcome),
      ['toolchain-missing', 'compiled'],
    )
    assert.ok(placement.failures.penalty(calls.remote[0]!) > 0.9)
    assert.equal(calls.local, 0)
  })

  it('sends a job refused as BUSY to another member without using up its retry', async () => {
    const { clock, builders, placement, calls, local } = setup({
      members: () => [view('a'), view('b'), view('c'), view('d')],
    })
    builders.free.set('d', 4)
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          if (calls.remote.length === 1) return { kind: 'busy', detail: 'busy' }
          if (calls.remote.length === 2) return { kind: 'infra', failure: 'cut-off' }
          return { kind: 'compiled', result: { exit: 0, by: slot.peer } }
        },
      }),
    )
    // busy, then a real failure (the one retry), then a result: never local.
    assert.deepEqual(
      report.attempts.map((a) => a.outcome),
      ['busy', 'cut-off', 'compiled'],
    )
    assert.equal(new Set(calls.remote).size, 3, 'each attempt on another member')
    assert.equal(report.where, 'remote')
    assert.equal(report.fallback, undefined)
    assert.equal(calls.local, 0)
    const busyPeer = calls.remote[0]!
    // No failure penalty for the busy member, only a short back-off.
    assert.equal(placement.failures.penalty(busyPeer), 0)
    assert.ok(placement.failures.penalty(calls.remote[1]!) > 0.9)
    assert.equal(placement.counters.busy, 1)
    assert.equal(placement.inFlight.running(busyPeer), 0, 'claim withdrawn')
  })

  it('keeps the BUSY member out of placement for a moment, then takes it back', async () => {
    const { clock, placement } = setup({ busyBackoffMs: 300 })
    const slot = await settle(clock, placement.acquire(JOB))
    assert.equal(slot.kind, 'remote')
    const peer = slot.kind === 'remote' ? slot.peer : ''
    const headroom = () => placement.candidates(JOB).find((c) => c.view.peerId === peer)!.headroom
    slot.release({ kind: 'busy' })
    assert.equal(headroom(), 0)
    await clock.advance(5_000)
    assert.ok(headroom() > 0, 'back-off over')
    assert.equal(placement.failures.isOpen(peer), false)
  })

  it('after a bounded number of BUSY answers, waits in the queue for any member', async () => {
    const { clock, builders, placement, calls, local } = setup({
      members: () => [view('a'), view('b'), view('c'), view('d')],
    })
    builders.free.set('d', 4)
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        maxBusyTries: 2,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          if (calls.remote.length <= 3) return { kind: 'busy' }
          return { kind: 'compiled', result: { exit: 0, by: slot.peer } }
        },
      }),
    )
    assert.deepEqual(
      report.attempts.map((a) => a.outcome),
      ['busy', 'busy', 'busy', 'compiled'],
    )
    assert.equal(new Set(calls.remote.slice(0, 3)).size, 3, 'the first member and two others')
    assert.equal(placement.counters.waited, 1, 'then it queued')
    assert.equal(report.where, 'remote')
    assert.equal(calls.local, 0)
    for (const p of calls.remote) assert.equal(placement.failures.penalty(p), 0)
  })

  it('compiles locally after a second infrastructure failure', async () => {
    const { clock, placement, calls, local } = setup()
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          return { kind: 'infra', failure: 'sandbox-refused', detail: 'no user namespaces' }
        },
      }),
    )
    assert.equal(calls.remote.length, 2)
    assert.equal(new Set(calls.remote).size, 2)
    assert.equal(calls.local, 1)
    assert.equal(report.where, 'local')
    assert.equal(report.fallback, 'retries-exhausted')
    assert.deepEqual(
      report.attempts.map((a) => [a.where, a.outcome]),
      [
        ['remote', 'sandbox-refused'],
        ['remote', 'sandbox-refused'],
        ['local', 'compiled'],
      ],
    )
    assert.equal(report.attempts[0]!.detail, 'no user namespaces')
    // A sandbox refusal opens the breaker at once.
    for (const p of calls.remote) assert.equal(placement.failures.isOpen(p), true)
  })

  it('counts a thrown transport error as the builder being cut off', async () => {
    const { clock, placement, calls, local } = setup()
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          if (calls.remote.length === 1) throw new Error('stream reset')
          return { kind: 'compiled', result: { exit: 0, by: slot.peer } }
        },
      }),
    )
    assert.equal(report.attempts[0]!.outcome, 'cut-off')
    assert.equal(report.attempts[0]!.detail, 'stream reset')
    assert.equal(report.where, 'remote')
  })

  it('abandons a builder that stalls past the deadline', async () => {
    const { clock, placement, calls, local } = setup()
    let aborted = false
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        deadlineMs: () => 5_000,
        remote: (slot, _job, { signal }) => {
          calls.remote.push(slot.peer)
          if (calls.remote.length === 1) {
            signal.addEventListener('abort', () => {
              aborted = true
            })
            return new Promise<RemoteResult<Out>>(() => {})
          }
          return Promise.resolve({ kind: 'compiled', result: { exit: 0, by: slot.peer } })
        },
      }),
    )
    assert.equal(report.attempts[0]!.outcome, 'deadline')
    assert.ok(report.attempts[0]!.elapsedMs >= 5_000)
    assert.equal(aborted, true, 'the stalled attempt was told to stop')
    assert.equal(report.where, 'remote')
    assert.ok(clock.now() >= 5_000)
  })

  it('compiles locally when the remote result is suspect', async () => {
    const { clock, placement, calls, local } = setup()
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async (slot) => {
          calls.remote.push(slot.peer)
          return { kind: 'compiled', result: { exit: 137, by: slot.peer }, suspect: true }
        },
      }),
    )
    assert.equal(report.result.by, 'local')
    assert.equal(report.fallback, 'suspect-result')
    assert.equal(calls.remote.length, 1)
  })

  it('uses a free local slot first in auto mode and learns the local baseline', async () => {
    const { clock, placement, calls, local } = setup({ mode: 'auto' })
    const report = await settle(
      clock,
      runWithPlacement<Out>(JOB, {
        placement,
        local,
        remote: async () => assert.fail('not remote'),
      }),
    )
    assert.equal(report.where, 'local')
    assert.equal(calls.local, 1)
    assert.ok(Math.abs(placement.speeds.localMs('tc1')! - 100) < 1e-6)
    assert.equal(placement.local.used, 0)
  })

  it('stops on abort, releasing the slot, and passes local errors on', async () => {
    const { clock, placement, local } = setup()
    const ctl = new AbortController()
    let peer = ''
    const p = runWithPlacement<Out>(JOB, {
      placement,
      local,
      signal: ctl.signal,
      remote: (slot: RemoteSlot) => {
        peer = slot.peer
        return new Promise(() => {})
      },
    })
    await clock.advance(50)
    assert.equal(placement.inFlight.running(peer), 1)
    ctl.abort(new Error('make interrupted'))
    await assert.rejects(p, /make interrupted/)
    assert.equal(placement.inFlight.running(peer), 0)

    const auto = setup({ mode: 'auto' })
    await assert.rejects(
      settle(
        auto.clock,
        runWithPlacement<Out>(JOB, {
          placement: auto.placement,
          local: async () => {
            throw new Error('cannot exec gcc')
          },
          remote: async () => assert.fail('not remote'),
        }),
      ),
      /cannot exec gcc/,
    )
    assert.equal(auto.placement.local.used, 0)
  })
})
