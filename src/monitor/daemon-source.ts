/**
 * Snapshots from the running daemon: one control request `{ cmd: 'peers' }` per refresh on
 * `$MESHCC_HOME/run/daemon.sock`, answered with the peer directory's snapshot. The reply is checked
 * for the promised shape before the view trusts it, so a daemon of another version fails with a
 * clear protocol error rather than a crash in the renderer.
 *
 * @example
 * ```ts
 * const snapshot = await daemonPeersSource(nodePaths()).snapshot(AbortSignal.timeout(5000))
 * ```
 */
import { controlRequest } from '../cli/control-client.ts'
import type { NodePaths } from '../config/paths.ts'
import type { ControlCommand } from '../daemon/control.ts'
import { ProtocolError } from '../errors.ts'
import type { PeersSnapshot, PeersSource } from './types.ts'

/** The control command; typed loosely until the daemon's command list names it. */
const PEERS = 'peers' as string as ControlCommand

export function daemonPeersSource(paths: NodePaths): PeersSource {
  return {
    async snapshot(signal) {
      const reply = await controlRequest(paths, PEERS, { signal })
      return parsePeersSnapshot(reply['snapshot'] ?? reply)
    },
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Accepts `{ self, peers }` whose entries each carry at least a string `peerId` and `org`. */
export function parsePeersSnapshot(value: unknown): PeersSnapshot {
  const entry = (v: unknown) =>
    isObject(v) && typeof v['peerId'] === 'string' && typeof v['org'] === 'string'
  if (!isObject(value) || !entry(value['self']) || !Array.isArray(value['peers'])) {
    throw new ProtocolError('the daemon answered `peers` without a { self, peers } snapshot')
  }
  if (!value['peers'].every(entry)) {
    throw new ProtocolError('the daemon answered `peers` with a member lacking peerId or org')
  }
  return value as unknown as PeersSnapshot
}
