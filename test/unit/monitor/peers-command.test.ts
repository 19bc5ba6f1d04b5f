import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { stripVTControlCharacters } from 'node:util'
import { runPeersCommand } from '../../../src/cli/peers-command.ts'
import { UnknownFlagError, UsageError } from '../../../src/errors.ts'
import type { PeersSnapshot } from '../../../src/monitor/types.ts'
import { FakeIn, FakeOut, FakeProcess, until } from './fake-terminal.ts'
import { peer, snapshot } from './snapshot-fixture.ts'

class PipeOut extends EventEmitter {
  readonly isTTY = false
  text = ''
  write(chunk: string): boolean {
    this.text += chunk
    return true
  }
}

function sourceOf(s: PeersSnapshot) {
  let calls = 0
  return {
    calls: () => calls,
    snapshot: async (signal: AbortSignal) => {
      assert.ok(signal instanceof AbortSignal)
      calls++
      return s
    },
  }
}

const io = (stdout: PipeOut | FakeOut, env: Record<string, string> = {}) => ({
  stdout,
  stderr: new PipeOut(),
  env,
})

describe('runPeersCommand', () => {
  it('--json prints exactly one { self, peers } object, as the source gave it', async () => {
    const s = snapshot([peer('bravo'), peer('charlie')])
    const out = new PipeOut()
    assert.equal(await runPeersCommand(['--json'], io(out), sourceOf(s)), 0)
    const parsed = JSON.parse(out.text)
    assert.deepEqual(Object.keys(parsed), ['self', 'peers'])
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(s)))
    for (const p of parsed.peers) {
      for (const k of ['peerId', 'org', 'platform', 'cores', 'freeSlots']) assert.ok(k in p, k)
    }
  })

  it('--json on a terminal still prints JSON and no escape codes', async () => {
    const out = new FakeOut()
    assert.equal(await runPeersCommand(['--json'], io(out), sourceOf(snapshot([]))), 0)
    assert.ok(!out.all.includes('\x1b'))
    assert.equal(JSON.parse(out.all).self.host, 'alpha')
  })

  it('prints the table once, uncoloured, when output is not a terminal', async () => {
    const out = new PipeOut()
    const src = sourceOf(snapshot([peer('bravo')]))
    assert.equal(await runPeersCommand([], io(out), src), 0)
    assert.equal(src.calls(), 1)
    assert.ok(!out.text.includes('\x1b'))
    const lines = out.text.trimEnd().split('\n')
    assert.match(lines[0]!, /^meshcc peers · alpha · 2 members/)
    assert.ok(lines[1]!.trim().startsWith('HOST'))
    assert.ok(lines.some((l) => l.startsWith('  bravo')))
  })

  it('--once on a terminal prints one table at the terminal width, coloured', async () => {
    const out = new FakeOut(50, 10)
    assert.equal(await runPeersCommand(['--once'], io(out), sourceOf(snapshot([peer('bravo')]))), 0)
    assert.ok(out.all.includes('\x1b[1m'), 'bold summary')
    assert.ok(!out.all.includes('\x1b[?1049h'), 'no alternate screen')
    const plain = stripVTControlCharacters(out.all).trimEnd().split('\n')
    for (const l of plain) assert.ok(l.length <= 50, l)
  })

  it('honours NO_COLOR and FORCE_COLOR', async () => {
    const tty = new FakeOut()
    await runPeersCommand(['--once'], io(tty, { NO_COLOR: '1' }), sourceOf(snapshot([])))
    assert.ok(!tty.all.includes('\x1b'))
    const pipe = new PipeOut()
    await runPeersCommand([], io(pipe, { FORCE_COLOR: '1' }), sourceOf(snapshot([])))
    assert.ok(pipe.text.includes('\x1b[1m'))
  })

  it('runs the live view on a terminal until told to stop', async () => {
    const out = new FakeOut(80, 20)
    const stdin = new FakeIn()
    const done = runPeersCommand(
      ['--interval', '0.1'],
      { ...io(out), stdin, process: new FakeProcess() },
      sourceOf(snapshot([peer('bravo')])),
    )
    await until(out, () => out.screen().lines.some((l) => l.startsWith('  bravo')))
    assert.match(out.screen().lines.join('\n'), /every 0\.1s/)
    stdin.press('q')
    assert.equal(await done, 0)
    assert.equal(out.screen().alternate, false)
  })

  it('rejects unknown flags and bad intervals with typed errors', async () => {
    const src = sourceOf(snapshot([]))
    await assert.rejects(runPeersCommand(['--watch'], io(new PipeOut()), src), UnknownFlagError)
    await assert.rejects(runPeersCommand(['extra'], io(new PipeOut()), src), UsageError)
    for (const bad of ['0', 'fast', '-1', '', '99999']) {
      await assert.rejects(
        runPeersCommand(['--interval', bad], io(new PipeOut()), src),
        UsageError,
        bad,
      )
    }
    assert.equal(src.calls(), 0)
  })

  it('--help prints the usage without asking for a snapshot', async () => {
    const out = new PipeOut()
    const src = sourceOf(snapshot([]))
    assert.equal(await runPeersCommand(['--help'], io(out), src), 0)
    assert.match(out.text, /^Usage: meshcc peers/)
    assert.match(out.text, /--interval/)
    assert.equal(src.calls(), 0)
  })

  it('lets the source error through in one-shot modes', async () => {
    const failing = {
      snapshot: async () => {
        throw new UsageError('no mesh here')
      },
    }
    await assert.rejects(runPeersCommand(['--json'], io(new PipeOut()), failing), /no mesh here/)
    await assert.rejects(runPeersCommand(['--once'], io(new PipeOut()), failing), /no mesh here/)
  })
})
