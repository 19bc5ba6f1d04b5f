import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  daemonTransfers,
  formatTransfers,
  transferView,
  withTransfers,
} from '../../../src/cli/transfer-list.ts'
import { nodePaths } from '../../../src/config/paths.ts'
import { type ControlContext, runControl } from '../../../src/daemon/control.ts'
import type { TransferProgressEvent } from '../../../src/toolchain-transfer/transfer-progress.ts'

const ID = 'ab'.repeat(32)
const chunks: TransferProgressEvent = {
  id: ID,
  phase: 'chunks',
  done: 3 * 1024 * 1024,
  total: 12 * 1024 * 1024,
  bytesPerSecond: 1.5 * 1024 * 1024,
  peers: 2,
  elapsedMs: 2345.6,
}

describe('transfer list', () => {
  it('shows percent, sizes and rate', () => {
    const text = formatTransfers([chunks])
    assert.match(text, /^in transfer:\n/)
    const row = text.split('\n')[2] ?? ''
    assert.match(
      row,
      new RegExp(
        `^${ID.slice(0, 16)} +chunks +25\\.0% +3\\.0 MiB/12\\.0 MiB +1\\.5 MiB/s +2 +2\\.3s$`,
      ),
    )
    assert.equal(formatTransfers([]), '')
  })

  it('has no percent before the total is known, and no rate outside the chunk phase', () => {
    const m = { ...chunks, phase: 'manifest' as const, done: 0, total: 0, bytesPerSecond: 0 }
    assert.equal(transferView(m).percent, null)
    assert.match(formatTransfers([m]).split('\n')[2] ?? '', / manifest +\? +0\/0 +- +2 /)
  })

  it('attaches transfers to listed toolchains and appends the others, JSON stays an array', () => {
    const other = { ...chunks, id: 'cd'.repeat(32), done: 1, total: 4 }
    const list = [
      { id: ID, complete: false },
      { id: 'ef'.repeat(32), complete: true },
    ]
    const out = withTransfers(list, [chunks, other])
    assert.equal(out.length, 3)
    assert.deepEqual((out[0] as { transfer?: unknown }).transfer, transferView(chunks))
    assert.equal((out[1] as { transfer?: unknown }).transfer, undefined)
    assert.deepEqual(out[2], { id: other.id, complete: false, transfer: transferView(other) })
    assert.equal(transferView(other).percent, 25)
  })

  it('answers the transfers control command from the hook, empty without one', async () => {
    const ctx = (transfers?: () => TransferProgressEvent[]): ControlContext =>
      ({
        hooks: { ...(transfers ? { transfers } : {}) },
        status: () => ({}),
        requestStop() {},
      }) as unknown as ControlContext
    assert.deepEqual(
      await runControl(
        { cmd: 'transfers' },
        ctx(() => [chunks]),
      ),
      {
        ok: true,
        transfers: [chunks],
      },
    )
    assert.deepEqual(await runControl({ cmd: 'transfers' }, ctx()), { ok: true, transfers: [] })
  })

  it('finds no transfers when no daemon runs', async () => {
    const home = await mkdtemp(join(tmpdir(), 'meshcc-transfers-'))
    try {
      assert.deepEqual(await daemonTransfers(nodePaths({ MESHCC_HOME: home })), [])
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })
})
