/**
 * `meshcc cache clear`: through the running daemon (its index forgets the entries too, so the
 * next compile is a miss) and, with no daemon, on the directory itself. Usage errors and help.
 * Needs `npm run build`.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  daemonPid,
  makeHome,
  meshccBin,
  runCommand,
  type TestHome,
} from '../helpers/meshcc-home.ts'

describe('meshcc cache clear', () => {
  let h: TestHome
  const cli = (args: string[]) => runCommand(meshccBin, args, { cwd: h.dir, env: h.env })
  const json = async (args: string[]) => {
    const r = await cli(args)
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return JSON.parse(r.stdout.toString())
  }
  const compile = async () => {
    const r = await cli(['gcc', '-c', 'a.c', '-o', 'a.o'])
    assert.equal(r.code, 0, r.stderr.toString())
    return readFile(join(h.dir, 'a.o'))
  }
  before(async () => {
    h = await makeHome()
    await writeFile(join(h.dir, 'a.c'), 'int a(void) { return 41 + 1; }\n')
  })
  after(() => h.cleanup())

  it('through the daemon: entries gone, the next compile is a miss', async () => {
    const first = await compile()
    await compile()
    const before = await json(['stats', '--json'])
    assert.equal(before.cache_hits, 1)
    assert.ok(before.cache_entries >= 1)
    const c = await json(['cache', 'clear', '--json'])
    assert.equal(c.cleared, true)
    assert.equal(c.via, 'daemon')
    assert.equal(c.removed.entries, before.cache_entries)
    assert.ok(c.removed.bytes > 0)
    const emptied = await json(['stats', '--json'])
    assert.equal(emptied.cache_entries, 0)
    assert.equal(emptied.cache_bytes, 0)
    assert.deepEqual(await compile(), first)
    const after = await json(['stats', '--json'])
    assert.equal(after.cache_misses, before.cache_misses + 1)
    assert.equal(after.cache_hits, before.cache_hits, 'the statistics are kept')
  })

  it('without a daemon: clears the directory itself', async () => {
    await compile() // a hit on the entry stored just above
    const stop = await cli(['daemon', 'stop'])
    assert.equal(stop.code, 0, stop.stderr.toString())
    assert.equal(await daemonPid(h.home), undefined)
    const entries = (await json(['stats', '--json'])).cache_entries
    assert.ok(entries >= 1)
    const c = await json(['cache', 'clear', '--json'])
    assert.equal(c.via, 'directory')
    assert.equal(c.removed.entries, entries)
    assert.equal(await daemonPid(h.home), undefined, 'clearing did not start a daemon')
    assert.equal((await json(['stats', '--json'])).cache_entries, 0)
    const misses = (await json(['stats', '--json'])).cache_misses
    await compile()
    assert.equal((await json(['stats', '--json'])).cache_misses, misses + 1)
    // Human output names what went where.
    const human = await cli(['cache', 'clear'])
    assert.equal(human.code, 0)
    assert.match(
      human.stdout.toString(),
      /^meshcc: cache cleared \(\d+ entries, .+\) in \/.*cache\n$/,
    )
  })

  it('help, and usage errors with exit status 2', async () => {
    for (const args of [
      ['cache', '--help'],
      ['help', 'cache'],
      ['cache', 'clear', '-h'],
    ]) {
      const r = await cli(args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout.toString(), /^Usage: meshcc cache clear/)
    }
    for (const args of [['cache'], ['cache', 'purge'], ['cache', 'clear', '--all']]) {
      const r = await cli(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr.toString(), /^error\[ERR_MESHCC_(USAGE|UNKNOWN_FLAG)\]: /)
    }
  })
})
