/**
 * 200 wrapper invocations at once through the real daemon (`dist/daemon/main.js`), starting from
 * no daemon: all succeed with the right object, only one daemon ends up serving the home (any
 * other that raced to start exits), and with a warm daemon (all hits) none falls back.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  runCommand,
  type TestHome,
} from '../helpers/meshcc-home.ts'

const N = 200

/** Pids of processes whose environment names this MESHCC_HOME and that run a daemon. */
function daemonsOf(home: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'latin1')
      if (!cmd.includes('daemon')) continue
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0')
      if (env.includes(`MESHCC_HOME=${home}`)) pids.push(Number(name))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

describe('native client: concurrency', () => {
  let h: TestHome
  let env: NodeJS.ProcessEnv
  let expected: Buffer
  before(async () => {
    h = await makeHome()
    env = h.env
    await writeFile(join(h.dir, 'c.c'), 'int c(int x) { return x * 3; }\n')
    const r = await runCommand('gcc', ['-c', 'c.c', '-o', 'ref.o'], { cwd: h.dir, env: h.env })
    assert.equal(r.code, 0)
    expected = await readFile(join(h.dir, 'ref.o'))
  })
  after(() => h.cleanup())

  const burst = async (tag: string) => {
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        runCommand(meshccBin, ['gcc', '-c', 'c.c', '-o', `${tag}${i}.o`], {
          cwd: h.dir,
          env,
          timeoutMs: 120_000,
        }),
      ),
    )
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `invocation ${i}: ${r.stderr}`)
      assert.deepEqual(await readFile(join(h.dir, `${tag}${i}.o`)), expected, `object ${i}`)
    }
  }

  it(`${N} invocations from cold: all succeed, one daemon remains`, async () => {
    assert.equal(await daemonPid(h.home), undefined)
    await burst('cold')
    const pid = await daemonPid(h.home)
    assert.ok(pid !== undefined && isAlive(pid))
    assert.deepEqual(daemonsOf(h.home), [pid])
  })

  it(`${N} invocations on a warm daemon: all hits, no fallback`, async () => {
    const stats = async () => {
      const r = await runCommand(meshccBin, ['stats', '--json'], { cwd: h.dir, env })
      return JSON.parse(r.stdout.toString())
    }
    const before = await stats()
    await burst('warm')
    const after = await stats()
    // Every one a hit served by the daemon: none compiled locally behind its back.
    assert.equal(after.cache_hits - before.cache_hits, N)
  })
})
