/**
 * The learned speed figure of a joined node (real CLI and daemon, loopback, mDNS off): shortly
 * after start the daemon compiles its calibration unit in the background, logs the figure, and
 * `meshcc peers --json` shows that very figure in the node's own advert fields. Toolchain
 * transfers: `meshcc toolchain list --json` asks the daemon and shows none in transfer on an
 * idle node. Needs the build.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { nodePaths } from '../../src/config/paths.ts'
import { type JoinedNode, joinedNode } from '../helpers/joined-node.ts'
import { repoRoot } from '../helpers/meshcc-home.ts'

describe('advertised speed of a joined node', () => {
  let a: JoinedNode
  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run the build first')
    a = await joinedNode()
  })
  after(() => a?.h.cleanup())

  it('is the calibrated figure, in peers --json', async () => {
    const log = join(nodePaths(a.h.env).logDir, 'daemon.log')
    let calibrated: { speed: number; cpuMs: number } | undefined
    for (let i = 0; i < 80 && calibrated === undefined; i++) {
      const text = await readFile(log, 'utf8').catch(() => '')
      const line = text.split('\n').find((l) => l.includes('compile speed calibrated'))
      if (line !== undefined) calibrated = JSON.parse(line) as { speed: number; cpuMs: number }
      else await sleep(250)
    }
    assert.ok(calibrated, 'the daemon never logged its calibration')
    assert.ok(calibrated.cpuMs > 0 && calibrated.speed > 0, JSON.stringify(calibrated))
    const s = await a.waitPeers((p) => p.self.speed === calibrated?.speed, 10_000)
    assert.equal(s.self.speed, calibrated.speed)
  })

  it('toolchain list --json asks the daemon and shows no transfer on an idle node', async () => {
    const r = await a.cli(['toolchain', 'list', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    const list = JSON.parse(r.stdout.toString()) as { transfer?: unknown }[]
    assert.ok(Array.isArray(list))
    assert.ok(list.every((t) => t.transfer === undefined))
  })
})
