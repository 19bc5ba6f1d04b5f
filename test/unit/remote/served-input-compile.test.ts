/**
 * The builder's compile on a FIFO-served input (`remote/served-input-compile.ts`): started before
 * the launcher answered; when no FIFO could be made, that compile is stopped and its result
 * never used, and the compile runs again on the text written as a plain file.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileOnServedInput } from '../../../src/remote/served-input-compile.ts'

function recorder() {
  const events: string[] = []
  const r = { events }
  let n = 0
  const compile = (signal: AbortSignal) => {
    const i = ++n
    events.push(`compile ${i}`)
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        events.push(`compiled ${i}`)
        resolve(`result ${i}`)
      }, 20)
      signal.addEventListener('abort', () => {
        if (r.events.includes(`compiled ${i}`)) return // too late: already done
        clearTimeout(timer)
        events.push(`aborted ${i}`)
        reject(signal.reason)
      })
    })
  }
  const write = async () => {
    events.push('write')
  }
  return { events, compile, write }
}

describe('compile on a served input', () => {
  it('starts before the answer and keeps that compile when the FIFO exists', async () => {
    const r = recorder()
    const answer = Promise.withResolvers<boolean>()
    const out = compileOnServedInput(
      { served: answer.promise },
      r.compile,
      r.write,
      new AbortController().signal,
    )
    assert.deepEqual(r.events, ['compile 1'])
    answer.resolve(true)
    assert.equal(await out, 'result 1')
    assert.deepEqual(r.events, ['compile 1', 'compiled 1'])
  })

  it('stops and forgets that compile when no FIFO could be made, then writes and compiles again', async () => {
    const r = recorder()
    const out = compileOnServedInput(
      { served: Promise.resolve(false) },
      r.compile,
      r.write,
      new AbortController().signal,
    )
    assert.equal(await out, 'result 2')
    assert.deepEqual(r.events, ['compile 1', 'aborted 1', 'write', 'compile 2', 'compiled 2'])
  })

  it('forgets a first compile that already finished when the answer is no FIFO', async () => {
    const r = recorder()
    const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 40))
    assert.equal(
      await compileOnServedInput(
        { served: late },
        r.compile,
        r.write,
        new AbortController().signal,
      ),
      'result 2',
    )
    assert.deepEqual(r.events, ['compile 1', 'compiled 1', 'write', 'compile 2', 'compiled 2'])
  })

  it('writes the input first when nothing is served', async () => {
    const r = recorder()
    assert.equal(
      await compileOnServedInput(undefined, r.compile, r.write, new AbortController().signal),
      'result 1',
    )
    assert.deepEqual(r.events, ['write', 'compile 1', 'compiled 1'])
  })

  it("passes the job's own abort to the compile", async () => {
    const r = recorder()
    const job = new AbortController()
    const out = compileOnServedInput(
      { served: Promise.resolve(true) },
      r.compile,
      r.write,
      job.signal,
    )
    job.abort(new Error('job gone'))
    await assert.rejects(out, /job gone/)
  })
})
