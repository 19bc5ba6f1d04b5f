/**
 * A manifest is rewritten only when it changes: a unit compiled again with the same headers
 * (`MESHCC_RECACHE`, or a touched source whose text is the same) finds its entry newest already
 * and writes nothing; a changed header adds an entry, which is written; the next lookup hits.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CacheStore } from '../../src/cache/types.ts'
import type { CompileReply } from '../../src/compile/types.ts'
import { COMPILERS, createFixture, type Fixture } from './pipeline-fixture.ts'

describe('pipeline: manifest rewrites', () => {
  const writes = { asked: 0, written: 0 }
  const wrap = (s: CacheStore): CacheStore => ({
    ...s,
    start: (o) => s.start(o),
    stop: (o) => s.stop(o),
    getResult: (k) => s.getResult(k),
    putResult: (k, r, o) => s.putResult(k, r, o),
    getManifest: (k) => s.getManifest(k),
    putManifest: (k, d, o) => s.putManifest(k, d, o),
    updateManifest: (key, update, options) =>
      s.updateManifest(
        key,
        (current) => {
          writes.asked++
          const next = update(current)
          if (next !== undefined) writes.written++
          return next
        },
        options,
      ),
    stats: () => s.stats(),
    clear: (o) => s.clear(o),
  })
  let fx: Fixture
  let cwd: string
  before(async () => {
    fx = await createFixture({ wrapStore: wrap })
    cwd = join(fx.root, 'mr')
    fx.write({
      'mr/mr.h': '#define MR 1\n',
      'mr/mr.c': '#include "mr.h"\nint mr(void) { return MR; }\n',
    })
  })
  after(() => fx.close())

  const ok = (reply: CompileReply) =>
    assert.equal(reply.kind === 'done' && reply.exitCode, 0, JSON.stringify(reply))
  const compile = async (env: Record<string, string> = {}) => {
    ok(await fx.compile(cwd, COMPILERS.gcc, ['-c', 'mr.c', '-o', 'mr.o'], { env }))
    await fx.handler.flushStores()
  }

  it('writes a new entry, skips the same one again, writes a changed one', async () => {
    const env = { MESHCC_CACHE_MODE: 'direct' }
    await compile(env)
    assert.deepEqual(writes, { asked: 1, written: 1 }, 'first miss: written')
    await compile({ ...env, MESHCC_RECACHE: '1' })
    assert.deepEqual(writes, { asked: 2, written: 1 }, 'same headers again: not rewritten')
    fx.write({ 'mr/mr.h': '#define MR 2\n' })
    await compile(env)
    assert.deepEqual(writes, { asked: 3, written: 2 }, 'changed header: a new entry written')
    const before = fx.counters().cache_hits
    await compile(env)
    assert.equal(fx.counters().cache_hits, before + 1, 'the manifest still leads to a hit')
  })
})
