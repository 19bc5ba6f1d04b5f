/**
 * `probeSandbox()`: on this machine the helper's self-check passes at level ≥ 2; a missing
 * helper is an answer with a reason (level 0), never an exception; the doctor line says so.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { sandboxCheck } from '../../src/sandbox/doctor-check.ts'
import { probeSandbox } from '../../src/sandbox/probe.ts'
import { MIN_REMOTE_LEVEL } from '../../src/sandbox/types.ts'
import { isLinux } from './sandbox-fixture.ts'

describe('sandbox probe', { skip: !isLinux && 'sandbox is Linux-only' }, () => {
  before(() => {
    execFileSync('make', ['-s', '-C', join(import.meta.dirname, '..', '..', 'native-sandbox')])
  })

  it('reports the level reached by a real sandboxed self-check', async () => {
    const p = await probeSandbox({ fresh: true })
    assert.equal(p.ok, true, JSON.stringify(p))
    assert.ok(p.level >= MIN_REMOTE_LEVEL)
    if (p.ok) assert.match(p.detail, /namespaces/)
    const check = await sandboxCheck()
    assert.equal(check.status, 'ok')
  })

  it('a missing helper is a reason, not an exception', async () => {
    const p = await probeSandbox({ helper: '/nonexistent/meshcc-sandbox' })
    assert.equal(p.ok, false)
    assert.equal(p.level, 0)
    if (!p.ok) assert.match(p.reason, /not built/)
  })

  it('a helper that fails is a reason with its message', async () => {
    const p = await probeSandbox({ helper: '/bin/false', fresh: true })
    assert.equal(p.ok, false)
    if (!p.ok) assert.ok(p.reason.length > 0 && p.hint.length > 0)
  })
})
