import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Logger } from '../../../src/daemon/logger.ts'
import { TransferBoard } from '../../../src/daemon/transfer-board.ts'
import type { TransferProgressEvent } from '../../../src/toolchain-transfer/transfer-progress.ts'

function recorder() {
  const lines: { msg: string; fields: Record<string, unknown> }[] = []
  const log = {
    info: (msg: string, fields: Record<string, unknown> = {}) => lines.push({ msg, fields }),
    debug() {},
    warn() {},
    error() {},
  } as unknown as Logger
  return { log, lines }
}

const ev = (id: string, done: number, total = 100): TransferProgressEvent => ({
  id,
  phase: 'chunks',
  done,
  total,
  bytesPerSecond: 1234.4,
  peers: 1,
  elapsedMs: 250.7,
})

describe('TransferBoard', () => {
  it('shows a transfer while it runs, logs it at most once a second, forgets it after', async () => {
    const { log, lines } = recorder()
    let now = 0
    const board = new TransferBoard(log, () => now)
    let report: (p: TransferProgressEvent) => void = () => {}
    let finish: (v: string) => void = () => {}
    const done = board.track('t1', (onProgress) => {
      report = onProgress
      return new Promise<string>((r) => {
        finish = r
      })
    })
    assert.deepEqual(board.list(), []) // nothing shown before the first event (a moment)
    report(ev('t1', 10))
    now = 400
    report(ev('t1', 20))
    now = 999
    report(ev('t1', 30))
    now = 1000
    report(ev('t1', 40))
    assert.deepEqual(board.list(), [ev('t1', 40)])
    assert.deepEqual(
      lines.map((l) => l.fields['done']),
      [10, 40],
    )
    assert.equal(lines[0]?.msg, 'toolchain transfer progress')
    assert.equal(lines[0]?.fields['bytesPerSecond'], 1234)
    finish('root')
    assert.equal(await done, 'root')
    assert.deepEqual(board.list(), [])
    report(ev('t1', 100)) // a late event does not bring it back
    assert.deepEqual(board.list(), [])
  })

  it('keeps a shared transfer until the last job waiting on it is done, even if one fails', async () => {
    const { log } = recorder()
    const board = new TransferBoard(log, () => 0)
    let report: (p: TransferProgressEvent) => void = () => {}
    let finish = () => {}
    const shared = new Promise<void>((r) => {
      finish = r
    })
    const a = board.track('t', (onProgress) => {
      report = onProgress
      return shared
    })
    const b = board.track('t', () => Promise.reject(new Error('aborted')))
    await assert.rejects(b, /aborted/)
    report(ev('t', 5))
    assert.equal(board.list().length, 1)
    finish()
    await a
    assert.deepEqual(board.list(), [])
  })
})
