import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RequestContext } from '../../../src/compile/context.ts'
import type { MissCompile, MissRun } from '../../../src/compile/miss-compiler.ts'
import type { Logger } from '../../../src/daemon/logger.ts'
import { observeMissSpeed } from '../../../src/daemon/miss-speed.ts'
import { NodeSpeed } from '../../../src/daemon/node-speed.ts'
import {
  CALIBRATION_BYTES,
  calibrate,
  calibrationSource,
} from '../../../src/daemon/speed-calibration.ts'
import type { SpeedSample } from '../../../src/daemon/speed-estimator.ts'
import type { BuilderJobEvent } from '../../../src/remote/builder-service.ts'

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet
  },
} as unknown as Logger

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshcc-speed-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const ran = (ms: number, extra: Partial<MissRun> = {}): MissRun => ({
  exitCode: 0,
  signal: null,
  stdout: Buffer.alloc(0),
  stderr: Buffer.alloc(0),
  ms,
  ...extra,
})

describe('calibration', () => {
  it('compiles the fixed unit and reports its CPU time', async () => {
    assert.ok(calibrationSource().length > 10_000)
    const s = await calibrate()
    assert.equal(s.bytes, CALIBRATION_BYTES)
    // A real -O2 compile of ~20 KB of dense C: tens to thousands of ms, never zero.
    assert.ok(s.cpuMs > 5 && s.cpuMs < 30_000, `cpuMs ${s.cpuMs}`)
  })

  it('fails for a compiler that does not exist', async () => {
    await assert.rejects(calibrate({ compiler: join(dir, 'no-such-cc') }))
  })
})

describe('observeMissSpeed', () => {
  it('samples a local compile by the bytes of the files in its depfile', async () => {
    await writeFile(join(dir, 'a.c'), 'x'.repeat(1000))
    await writeFile(join(dir, 'a.h'), 'y'.repeat(3000))
    await writeFile(join(dir, 'a.d'), `a.o: a.c ${join(dir, 'a.h')} \\\n a.h\n`)
    const samples: SpeedSample[] = []
    const miss = observeMissSpeed(undefined, { onSample: (s) => samples.push(s) })
    const ctx = { request: { cwd: dir }, inv: { depfile: undefined } } as unknown as RequestContext
    const job: MissCompile = {
      args: [],
      injectedDepfile: join(dir, 'a.d'),
      local: async () => ran(40),
    }
    const r = await miss(ctx, job)
    assert.equal(r.ms, 40)
    await sleep(50)
    // a.h listed twice (absolute and relative) counts once.
    assert.deepEqual(samples, [{ bytes: 4000, cpuMs: 40 }])
  })

  it('skips remote, failed and oversubscribed compiles', async () => {
    const samples: SpeedSample[] = []
    const ctx = { request: { cwd: dir }, inv: { depfile: undefined } } as unknown as RequestContext
    const job = (run: MissRun): MissCompile => ({
      args: [],
      injectedDepfile: join(dir, 'a.d'),
      local: async () => run,
    })
    const remote = observeMissSpeed(async () => ran(50, { where: 'remote' }), {
      onSample: (s) => samples.push(s),
    })
    await remote(ctx, job(ran(50)))
    const plain = observeMissSpeed(undefined, { cores: 1, onSample: (s) => samples.push(s) })
    await plain(ctx, job(ran(50, { exitCode: 1 })))
    let release = () => {}
    const slow = new Promise<MissRun>((r) => {
      release = () => r(ran(60))
    })
    const a = plain(ctx, { ...job(ran(0)), local: () => slow })
    const b = plain(ctx, job(ran(70))) // second at once on one core: not alone
    release()
    await Promise.all([a, b])
    await sleep(50)
    assert.equal(samples.length, 0, JSON.stringify(samples))
  })
})

describe('NodeSpeed', () => {
  it('calibrates once, when the figure is first read (the first advert)', async () => {
    let runs = 0
    const speed = new NodeSpeed({
      log: quiet,
      calibrateDelayMs: 1,
      calibrate: async () => {
        runs++
        return { bytes: 1_000_000, cpuMs: 1000 } // half the reference
      },
    })
    await sleep(20)
    assert.equal(runs, 0) // nobody asked: no CPU spent
    assert.equal(speed.advertised(), 1)
    assert.equal(speed.advertised(), 1)
    await sleep(30)
    assert.equal(runs, 1)
    assert.equal(speed.advertised(), 0.5)
  })

  it('learns from builder jobs and seeds from the calibration', async () => {
    let changes = 0
    const speed = new NodeSpeed({
      log: quiet,
      onChange: () => changes++,
      calibrateDelayMs: 1,
      calibrate: async () => ({ bytes: 4_000_000, cpuMs: 1000 }), // 2× the reference
    })
    assert.equal(speed.advertised(), 1)
    await sleep(30)
    assert.equal(speed.advertised(), 2)
    assert.equal(changes, 1)
    const job = (e: Partial<BuilderJobEvent>): BuilderJobEvent => ({
      jobId: 'j',
      peer: 'p',
      status: 'compiled',
      exitCode: 0,
      wallMs: 100,
      detail: '',
      inputBytes: 400_000,
      cpuMs: 100, // 4000 B/ms: 2× the reference again, no change
      ...e,
    })
    speed.builderJob(job({}))
    speed.builderJob(job({ status: 'failed', cpuMs: 1 }))
    assert.equal(speed.estimator.samples(), 1)
    for (let i = 0; i < 60; i++) speed.builderJob(job({ inputBytes: 800_000 }))
    assert.ok(speed.advertised() > 3.2, `advertised ${speed.advertised()}`)
    assert.ok(changes >= 2)
  })
})
