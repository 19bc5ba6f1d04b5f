/**
 * 200 wrapper invocations at once, starting from no daemon: all succeed with the right object,
 * only one daemon ends up serving the home (the others that raced to start exit), and with a
 * warm daemon none of them falls back to a local compile.
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
  withFakeDaemonNode,
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
    env = await withFakeDaemonNode(h, 'passthrough')
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

  it(`${N} invocations on a warm daemon: all served, no fallback`, async () => {
    const log = join(h.home, 'run', 'fallbacks.log')
    const before = await readFile(log, 'utf8').catch(() => '')
    await burst('warm')
    assert.equal(await readFile(log, 'utf8').catch(() => ''), before)
  })
})
