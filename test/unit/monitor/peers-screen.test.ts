import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runPeersScreen } from '../../../src/monitor/peers-screen.ts'
import { ENTER_ALT_SCREEN, HIDE_CURSOR } from '../../../src/monitor/terminal.ts'
import type { PeersSnapshot } from '../../../src/monitor/types.ts'
import { FakeIn, FakeOut, FakeProcess, until } from './fake-terminal.ts'
import { NOW, peer, snapshot } from './snapshot-fixture.ts'

interface Harness {
  out: FakeOut
  input: FakeIn
  proc: FakeProcess
  calls: () => number
  done: Promise<number>
}

/** Starts the screen with a source that answers with `next()` (throwing to fail a fetch). */
function start(
  next: (call: number) => PeersSnapshot | Promise<PeersSnapshot>,
  intervalMs = 20,
  size: [number, number] = [100, 20],
): Harness {
  const out = new FakeOut(...size)
  const input = new FakeIn()
  const proc = new FakeProcess()
  let calls = 0
  const source = { snapshot: async () => next(++calls) }
  const done = runPeersScreen({
    stdout: out,
    stdin: input,
    source,
    intervalMs,
    color: false,
    now: () => NOW,
    process: proc,
  })
  return { out, input, proc, calls: () => calls, done }
}

const text = (h: Harness) => h.out.screen().lines.join('\n')

function assertRestored(h: Harness): void {
  const screen = h.out.screen()
  assert.equal(screen.alternate, false, 'left the alternate screen')
  assert.equal(screen.cursorVisible, true, 'cursor shown again')
  assert.deepEqual(h.input.rawModes, [true, false])
  assert.equal(h.input.paused, true)
  assert.equal(h.out.listenerCount('resize'), 0)
  assert.equal(h.input.listenerCount('data'), 0)
  for (const e of ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'])
    assert.equal(h.proc.listenerCount(e), 0, e)
}

describe('runPeersScreen', () => {
  it('draws on the alternate screen without cursor and restores the terminal on q', async () => {
    const h = start(() => snapshot([peer('bravo')]))
    await until(h.out, () => text(h).includes('bravo'))
    assert.ok(h.out.writes[0]!.startsWith(ENTER_ALT_SCREEN + HIDE_CURSOR))
    const during = h.out.screen()
    assert.equal(during.alternate, true)
    assert.equal(during.cursorVisible, false)
    assert.match(during.lines[0]!, /^meshcc peers · alpha · 2 members/)
    assert.match(during.lines.at(-1) ?? '', /^$/)
    assert.ok(during.lines.some((l) => l.startsWith('q quit')))
    h.input.press('q')
    assert.equal(await h.done, 0)
    assertRestored(h)
    assert.ok(!text(h).includes('bravo'), 'main screen is back')
  })

  for (const [name, key] of [
    ['Ctrl-C', '\x03'],
    ['Esc', '\x1b'],
  ] as const) {
    it(`quits on ${name}`, async () => {
      const h = start(() => snapshot([]))
      await until(h.out, () => text(h).includes('alpha'))
      h.input.press(key)
      assert.equal(await h.done, 0)
      assertRestored(h)
    })
  }

  it('refreshes in place: members that left vanish, newcomers appear', async () => {
    const long = 'bravo-with-a-rather-long-host-name'
    const h = start((n) =>
      n < 3 ? snapshot([peer(long), peer('charlie')]) : snapshot([peer('delta')]),
    )
    await until(h.out, () => text(h).includes('charlie'))
    await until(h.out, () => text(h).includes('delta'))
    const { lines } = h.out.screen()
    const shown = lines.filter((l) => l !== '')
    assert.match(shown[0]!, /2 members/)
    assert.deepEqual(
      shown.slice(2, -1).map((l) => l.slice(2).split(' ')[0]),
      ['alpha', 'delta'],
      shown.join('\n'),
    )
    // shorter rows than before: no tails of the old ones, nothing below the status line
    assert.ok(shown[3]!.endsWith('gcc-13.2.0, clang-17.0.6'), shown[3])
    assert.match(shown.at(-1)!, /^q quit/)
    assert.equal(shown.length, 5, shown.join('\n'))
    h.input.press('q')
    await h.done
  })

  it('redraws for the new size on resize, without fetching again', async () => {
    const h = start(() => snapshot([peer('bravo')]), 60_000)
    await until(h.out, () => text(h).includes('TOOLCHAINS'))
    assert.equal(h.calls(), 1)
    h.out.resize(40, 10)
    const screen = h.out.screen()
    assert.ok(!screen.lines.some((l) => l.includes('TOOLCHAINS')), screen.lines.join('\n'))
    assert.ok(screen.lines.every((l) => l.length <= 40))
    assert.ok(screen.lines.some((l) => l.startsWith('  bravo')))
    assert.equal(h.calls(), 1)
    h.input.press('q')
    await h.done
  })

  it('keeps the last rows and shows the error while the source fails, then recovers', async () => {
    const h = start((n) => {
      if (n === 2 || n === 3) throw new Error('daemon went away')
      return snapshot([peer(n === 1 ? 'bravo' : 'charlie')])
    })
    await until(h.out, () => text(h).includes('error: daemon went away'))
    assert.ok(text(h).includes('bravo'))
    await until(h.out, () => text(h).includes('charlie'))
    assert.ok(!text(h).includes('error:'))
    h.input.press('q')
    await h.done
  })

  it('aborts a hanging fetch when the user quits', async () => {
    let aborted = false
    const out = new FakeOut()
    const input = new FakeIn()
    const source = {
      snapshot: (signal: AbortSignal) =>
        new Promise<PeersSnapshot>((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true
            reject(signal.reason)
          }),
        ),
    }
    const done = runPeersScreen({
      stdout: out,
      stdin: input,
      source,
      intervalMs: 1000,
      color: false,
      process: new FakeProcess(),
    })
    await until(out, () => out.screen().lines[0]!.includes('waiting'))
    input.press('q')
    assert.equal(await done, 0)
    assert.equal(aborted, true)
  })

  it('restores the terminal on SIGTERM and reports 128 + 15', async () => {
    const h = start(() => snapshot([]))
    await until(h.out, () => text(h).includes('alpha'))
    h.proc.emit('SIGTERM', 'SIGTERM')
    assert.equal(await h.done, 143)
    assertRestored(h)
  })

  it('restores the terminal when drawing fails', async () => {
    const h = start(() => ({ self: undefined, peers: [] }) as unknown as PeersSnapshot)
    await assert.rejects(h.done, TypeError)
    assertRestored(h)
  })

  it('restores the terminal if the process exits under it', async () => {
    const h = start(() => snapshot([]), 60_000)
    await until(h.out, () => text(h).includes('alpha'))
    h.proc.emit('exit', 0)
    assert.equal(h.out.screen().alternate, false)
    assert.equal(h.out.screen().cursorVisible, true)
    assert.equal(await h.done, 0)
    assertRestored(h)
  })

  it('refreshes at once on r', async () => {
    const h = start(() => snapshot([]), 60_000)
    await until(h.out, () => h.calls() === 1 && text(h).includes('alpha'))
    h.input.press('r')
    await until(h.out, () => h.calls() === 2)
    h.input.press('q')
    await h.done
  })
})
