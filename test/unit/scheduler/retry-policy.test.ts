import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decideAfter } from '../../../src/scheduler/retry-policy.ts'
import type { InfraFailure } from '../../../src/scheduler/types.ts'

const KINDS: InfraFailure[] = [
  'unreachable',
  'cut-off',
  'deadline',
  'sandbox-refused',
  'toolchain-missing',
  'protocol',
]

describe('retry policy', () => {
  it('returns whatever the compiler said, local or remote', () => {
    assert.deepEqual(decideAfter({ kind: 'compiled', where: 'local' }, { remoteFailures: 0 }), {
      action: 'return',
    })
    assert.deepEqual(decideAfter({ kind: 'compiled', where: 'remote' }, { remoteFailures: 1 }), {
      action: 'return',
    })
    // Only a remote result can be suspect of the builder's doing.
    assert.deepEqual(
      decideAfter({ kind: 'compiled', where: 'local', suspect: true }, { remoteFailures: 0 }),
      { action: 'return' },
    )
  })

  it('compiles locally a remote result that the builder may have caused', () => {
    assert.deepEqual(
      decideAfter({ kind: 'compiled', where: 'remote', suspect: true }, { remoteFailures: 0 }),
      { action: 'local', reason: 'suspect-result' },
    )
  })

  it('retries an infrastructure failure once elsewhere, then compiles locally', () => {
    for (const failure of KINDS) {
      const r = { kind: 'infra', where: 'remote', failure } as const
      assert.deepEqual(decideAfter(r, { remoteFailures: 1 }), { action: 'retry-elsewhere' })
      assert.deepEqual(decideAfter(r, { remoteFailures: 2 }), {
        action: 'local',
        reason: 'retries-exhausted',
      })
    }
  })

  it('honours the number of retries allowed', () => {
    const r = { kind: 'infra', where: 'remote', failure: 'cut-off' } as const
    assert.equal(decideAfter(r, { remoteFailures: 1, maxRemoteRetries: 0 }).action, 'local')
    assert.equal(
      decideAfter(r, { remoteFailures: 2, maxRemoteRetries: 2 }).action,
      'retry-elsewhere',
    )
    assert.equal(decideAfter(r, { remoteFailures: 3, maxRemoteRetries: 2 }).action, 'local')
  })

  it('sends a BUSY job elsewhere a bounded number of times, then waits, never counting a failure', () => {
    const busy = { kind: 'busy', where: 'remote' } as const
    // The one retry was already used by a real failure: BUSY still goes elsewhere.
    assert.deepEqual(decideAfter(busy, { remoteFailures: 1, busyAnswers: 1 }), {
      action: 'retry-elsewhere',
    })
    assert.deepEqual(decideAfter(busy, { remoteFailures: 0, busyAnswers: 4 }), {
      action: 'retry-elsewhere',
    })
    assert.deepEqual(decideAfter(busy, { remoteFailures: 0, busyAnswers: 5 }), { action: 'wait' })
    assert.deepEqual(decideAfter(busy, { remoteFailures: 2, busyAnswers: 2, maxBusyTries: 1 }), {
      action: 'wait',
    })
  })
})
