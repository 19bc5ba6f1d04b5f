/**
 * Snapshots for the monitor tests, shaped like the mesh's `DirectorySnapshot` (the compile-time
 * check in types-compat.test.ts keeps the two in step).
 */
import type { SnapshotPeer, SnapshotSelf, PeersSnapshot } from '../../../src/monitor/types.ts'

export const NOW = Date.UTC(2026, 10, 27, 8, 0, 0)
export const DAY = 24 * 3600_000

export function self(over: Partial<SnapshotSelf> = {}): SnapshotSelf {
  return {
    peerId: '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelf0001',
    org: 'acme',
    name: 'alpha',
    roles: ['admin', 'builder'],
    certExpiry: NOW + 90 * DAY,
    version: '0.1.0',
    addrs: ['/ip4/127.0.0.1/tcp/4001'],
    host: 'alpha',
    platform: 'linux',
    arch: 'x64',
    cores: 8,
    freeSlots: 6,
    load: 0.25,
    queuedJobs: 0,
    speed: 1,
    toolchains: ['gcc-13.2.0'],
    ...over,
  } as SnapshotSelf
}

export function peer(host: string, over: Partial<SnapshotPeer> = {}): SnapshotPeer {
  return {
    peerId: `12D3KooWPeer${host.padEnd(30, 'x')}`,
    org: 'acme',
    name: host,
    roles: ['builder'],
    certExpiry: NOW + 60 * DAY,
    connected: true,
    rttMs: 0.8,
    addrs: [],
    advertAgeMs: 500,
    host,
    platform: 'linux',
    arch: 'arm64',
    cores: 16,
    freeSlots: 10,
    load: 0.5,
    queuedJobs: 2,
    speed: 1.5,
    toolchains: ['gcc-13.2.0', 'clang-17.0.6'],
    version: '0.1.0',
    ...over,
  } as SnapshotPeer
}

export function snapshot(peers: SnapshotPeer[], s: SnapshotSelf = self()): PeersSnapshot {
  return { self: s, peers }
}
