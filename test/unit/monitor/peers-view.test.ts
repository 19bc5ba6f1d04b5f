import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stripVTControlCharacters } from 'node:util'
import { renderPeersView } from '../../../src/monitor/peers-view.ts'
import { displayWidth } from '../../../src/monitor/text-cell.ts'
import { DAY, NOW, peer, self, snapshot } from './snapshot-fixture.ts'

const ESC = '\x1b'
const plain = { now: NOW, color: false }
const three = () =>
  snapshot([peer('charlie'), peer('bravo', { cores: 4, freeSlots: 0, queuedJobs: 5 })])

function headerCells(lines: string[]): string[] {
  return (lines[1] ?? '').trim().split(/\s+/)
}

function rowOf(lines: string[], host: string): string | undefined {
  return lines.find((l) => l.slice(2).startsWith(host))
}

describe('renderPeersView', () => {
  for (const width of [40, 80, 200]) {
    it(`fits every line in ${width} columns`, () => {
      const s = three()
      s.peers.push(peer('a-very-long-host-name-in-the-build-farm.example.internal'))
      const lines = renderPeersView(s, { ...plain, width, height: 30 })
      for (const l of lines)
        assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`)
      const cells = headerCells(lines)
      assert.deepEqual(cells.slice(0, 1), ['HOST'])
      assert.equal(cells.includes('PLATFORM'), width >= 80)
      assert.equal(cells.includes('TOOLCHAINS'), width >= 80)
    })
  }

  it('shows every column when wide and drops the least useful ones when narrow', () => {
    const wide = headerCells(renderPeersView(three(), { ...plain, width: 200 }))
    assert.deepEqual(wide, [
      'HOST',
      'PLATFORM',
      'USED',
      'FREE',
      'LOAD',
      'JOBS',
      'QUEUE',
      'RTT',
      'CERT',
      'TOOLCHAINS',
    ])
    const narrow = headerCells(renderPeersView(three(), { ...plain, width: 40 }))
    assert.ok(
      narrow.includes('HOST') && narrow.includes('USED') && narrow.includes('FREE'),
      narrow.join(' '),
    )
    assert.ok(!narrow.includes('TOOLCHAINS') && !narrow.includes('QUEUE'), narrow.join(' '))
    const tiny = headerCells(renderPeersView(three(), { ...plain, width: 12 }))
    assert.deepEqual(tiny, ['HOST'])
  })

  it('summarises this node and the totals on the first line', () => {
    const [summary] = renderPeersView(three(), { ...plain, width: 200 })
    // self 8 cores 6 free; bravo 4 cores 0 free, 5 queued; charlie 16 cores 10 free, 2 queued
    assert.match(
      summary!,
      /^meshcc peers · alpha · 3 members · cores 12\/28 used, 16 free · 12 running, 7 queued/,
    )
  })

  it('sorts members by host, this node marked, whatever the input order', () => {
    const s = snapshot([peer('zulu'), peer('bravo'), peer('mike')], self({ host: 'kilo' }))
    const lines = renderPeersView(s, { ...plain, width: 120 })
    const hosts = lines.slice(2).map((l) => l.slice(2).split(/\s+/)[0])
    assert.deepEqual(hosts, ['bravo', 'kilo', 'mike', 'zulu'])
    assert.ok(lines[3]!.startsWith('* kilo'))
    assert.ok(lines[2]!.startsWith('  bravo'))
  })

  it('shows cores used/total, free slots, load, jobs, rtt and toolchains of a member', () => {
    const lines = renderPeersView(three(), { ...plain, width: 200 })
    const cells = rowOf(lines, 'charlie')!.trim().split(/\s+/)
    assert.deepEqual(cells.slice(0, 10), [
      'charlie',
      'linux/arm64',
      '6/16',
      '10',
      '0.50',
      '6',
      '2',
      '0.8ms',
      '60d',
      'gcc-13.2.0,',
    ])
    assert.ok(rowOf(lines, 'charlie')!.endsWith('gcc-13.2.0, clang-17.0.6'))
  })

  it('cuts long host names with an ellipsis when narrow and shows them whole when wide', () => {
    const long = 'a-very-long-host-name-in-the-build-farm.example.internal'
    const s = snapshot([peer(long)])
    const narrow = renderPeersView(s, { ...plain, width: 40 })
    assert.ok(narrow.some((l) => l.includes('a-very-') && l.includes('…')))
    assert.ok(!narrow.some((l) => l.includes(long)))
    const wide = renderPeersView(s, { ...plain, width: 200 })
    assert.ok(wide.some((l) => l.includes(long)))
  })

  it('says so when there are no other members', () => {
    const lines = renderPeersView(snapshot([]), { ...plain, width: 80 })
    assert.match(lines[0]!, /1 member ·/)
    assert.equal(lines.length, 4)
    assert.ok(lines[2]!.startsWith('* alpha'))
    assert.match(lines[3]!, /no other members yet/)
  })

  it('flags certificates close to expiry, in colour when colour is on', () => {
    const s = snapshot([
      peer('soon', { certExpiry: NOW + 2 * DAY }),
      peer('today', { certExpiry: NOW + 3 * 3600_000 }),
      peer('gone', { certExpiry: NOW - 1000 }),
      peer('fine', { certExpiry: NOW + 30 * DAY }),
    ])
    const lines = renderPeersView(s, { ...plain, width: 200 })
    const cert = (h: string) => rowOf(lines, h)!.trim().split(/\s+/)[8]
    assert.equal(cert('soon'), '2d!')
    assert.equal(cert('today'), '3h!')
    assert.equal(cert('gone'), 'expired')
    assert.equal(cert('fine'), '30d')

    const coloured = renderPeersView(s, { ...plain, color: true, width: 200 })
    const row = (h: string) =>
      coloured.find((l) => stripVTControlCharacters(l).slice(2).startsWith(h))!
    // The cell, padding included, sits inside the colour codes: yellow for a week, red+bold
    // for a day or less.
    const yellow = (t: string) => `${ESC}[33m${t.padStart(7)}${ESC}[39m`
    const red = (t: string) => `${ESC}[31m${ESC}[1m${t.padStart(7)}${ESC}[22m${ESC}[39m`
    assert.ok(row('soon').includes(yellow('2d!')), JSON.stringify(row('soon')))
    assert.ok(row('today').includes(red('3h!')), JSON.stringify(row('today')))
    assert.ok(row('gone').includes(red('expired')), JSON.stringify(row('gone')))
    assert.ok(!row('fine').includes(`${ESC}[3`), JSON.stringify(row('fine')))
    assert.deepEqual(
      coloured.map((l) => stripVTControlCharacters(l).trimEnd()),
      lines,
    )
  })

  it('prints no escape codes without colour, even from hostile adverts', () => {
    const s = snapshot([peer('evil\x1b[2J\x1b]0;pwned\x07host', { toolchains: ['gcc\u202e31-'] })])
    const out = renderPeersView(s, { ...plain, width: 200 }).join('\n')
    assert.ok(!out.includes('\x1b') && !out.includes('\x07') && !out.includes('\u202e'))
    assert.match(out, /evil\?\[2J\?\]0;pwned\?host/)
  })

  it('drops members that left and dims those without a connection', () => {
    const before = three()
    const after = snapshot([before.peers[1]!, peer('charlie', { connected: false, rttMs: null })])
    after.peers.splice(0, 1)
    const lines = renderPeersView(after, { ...plain, width: 120 })
    assert.equal(rowOf(lines, 'bravo'), undefined)
    assert.ok(rowOf(renderPeersView(before, { ...plain, width: 120 }), 'bravo'))
    assert.match(lines[0]!, /2 members/)
    assert.match(rowOf(lines, 'charlie')!, / off /)
    const coloured = renderPeersView(after, { ...plain, color: true, width: 120 })
    assert.ok(coloured.some((l) => l.startsWith('\x1b[2m') && l.includes('charlie')))
  })

  it('shows members known before their first advert with question marks', () => {
    const bare = peer('zz', {
      host: null,
      platform: null,
      arch: null,
      cores: null,
      freeSlots: null,
      load: null,
      queuedJobs: null,
      advertAgeMs: null,
      toolchains: [],
    })
    const cells = rowOf(renderPeersView(snapshot([bare]), { ...plain, width: 200 }), 'zz')!
      .trim()
      .split(/\s+/)
    assert.deepEqual(cells.slice(0, 7), ['zz', '?', '?', '?', '?', '?', '?'])
  })

  it('ends a list taller than the screen with the number not shown', () => {
    const s = snapshot(
      Array.from({ length: 10 }, (_, i) => peer(`node${String(i).padStart(2, '0')}`)),
    )
    const lines = renderPeersView(s, { ...plain, width: 80, height: 8, status: 'q quit' })
    assert.equal(lines.length, 8)
    assert.equal(lines[7], 'q quit')
    // 11 rows (self + 10), 5 lines of room: 4 rows and "… 7 more"
    assert.equal(lines[6], '  … 7 more')
    assert.equal(renderPeersView(s, { ...plain, width: 80 }).length, 13)
  })

  it('measures wide characters as two columns', () => {
    const s = snapshot([peer('構築サーバー一号機')])
    for (const width of [40, 80]) {
      for (const l of renderPeersView(s, { ...plain, width })) assert.ok(displayWidth(l) <= width)
    }
    assert.equal(displayWidth('構築'), 4)
  })
})
