import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DirectoryPeer } from '../../../src/mesh/types.ts'
import { viewFromAdvert, viewsFromDirectory } from '../../../src/scheduler/views-from-directory.ts'

const row: DirectoryPeer = {
  peerId: 'p1',
  org: 'acme',
  name: 'build-1',
  roles: ['client', 'builder'],
  certExpiry: 0,
  connected: true,
  rttMs: 0.4,
  addrs: [],
  advertAgeMs: 1_500,
  host: 'build-1',
  platform: 'linux',
  arch: 'x64',
  cores: 16,
  freeSlots: 12,
  load: 0.2,
  queuedJobs: 1,
  speed: 1.3,
  toolchains: ['tc1'],
  version: '0.1.0',
}

describe('views from the peer directory', () => {
  it('maps live adverts and turns their age into a time on our clock', () => {
    const [v] = viewsFromDirectory([row], 10_000)
    assert.deepEqual(v, {
      peerId: 'p1',
      platform: 'linux',
      arch: 'x64',
      cores: 16,
      freeSlots: 12,
      load: 0.2,
      queuedJobs: 1,
      speed: 1.3,
      toolchains: ['tc1'],
      version: '0.1.0',
      advertAt: 8_500,
      rttMs: 0.4,
      admitted: true,
      builder: true,
    })
  })

  it('skips members without a live advert and marks non-builders and closed connections', () => {
    const views = viewsFromDirectory(
      [
        { ...row, peerId: 'gone', advertAgeMs: null },
        { ...row, peerId: 'client', roles: ['client'], connected: false },
      ],
      0,
    )
    assert.deepEqual(
      views.map((v) => [v.peerId, v.builder, v.admitted]),
      [['client', false, false]],
    )
  })
})

describe('view from an advert', () => {
  it('copies the advertised figures and takes the local facts as given', () => {
    const v = viewFromAdvert(
      'p2',
      {
        host: 'h',
        platform: 'darwin',
        arch: 'arm64',
        cores: 10,
        freeSlots: 3,
        load: 0.7,
        queuedJobs: 0,
        speed: 1.8,
        toolchains: ['t'],
        version: '0.2.0',
        certExpiry: 0,
        addrs: [],
        seq: 1,
        ts: 1,
      },
      { advertAt: 42, rttMs: null, admitted: true, builder: true },
    )
    assert.equal(v.platform, 'darwin')
    assert.equal(v.freeSlots, 3)
    assert.equal(v.advertAt, 42)
    assert.equal(v.version, '0.2.0')
    assert.equal(v.rttMs, null)
  })
})
