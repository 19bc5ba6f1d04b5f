import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatBytes, formatDuration, parseDuration, parseSize } from '../../../src/config/units.ts'

describe('units', () => {
  it('parses sizes the ccache way', () => {
    const cases: Array<[string, number | undefined]> = [
      ['500M', 500e6],
      ['5G', 5e9],
      ['5GB', 5e9],
      ['1.5GiB', 1.5 * 2 ** 30],
      ['1.5Gi', 1.5 * 2 ** 30],
      ['10k', 10_000],
      ['10Ki', 10_240],
      ['2T', 2e12],
      ['1048576', 1_048_576],
      [' 64 MiB ', 64 * 2 ** 20],
      ['0', 0],
      ['', undefined],
      ['5X', undefined],
      ['-1G', undefined],
      ['G', undefined],
      ['1e9', undefined],
    ]
    for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text)
  })

  it('parses durations', () => {
    assert.equal(parseDuration('90'), 90_000)
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('1.5h'), 5_400_000)
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('2d'), 172_800_000)
    assert.equal(parseDuration('soon'), undefined)
    assert.equal(parseDuration('-5s'), undefined)
  })

  it('prints sizes and durations for people', () => {
    assert.equal(formatBytes(0), '0 B')
    assert.equal(formatBytes(1023), '1023 B')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(5 * 2 ** 30), '5.0 GiB')
    assert.equal(formatBytes(300 * 2 ** 20), '300 MiB')
    assert.equal(formatDuration(0), '0 s')
    assert.equal(formatDuration(850), '0.85 s')
    assert.equal(formatDuration(192_000), '3 min 12 s')
    assert.equal(formatDuration(90_061_000), '1 d 1 h 1 min')
  })
})
