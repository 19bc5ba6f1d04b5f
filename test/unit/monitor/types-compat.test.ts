/**
 * Keeps the monitor's snapshot types in step with the mesh's peer directory: if a field the
 * monitor reads is renamed or retyped in `src/mesh/types.ts`, the type-check of this file fails
 * (`tsc --noEmit -p tsconfig.test.json`). At run time it checks the same on a sample.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { DirectorySnapshot } from '../../../src/mesh/types.ts'
import type { PeersSnapshot } from '../../../src/monitor/types.ts'
import { peerRows } from '../../../src/monitor/peer-rows.ts'
import { NOW, peer, snapshot } from './snapshot-fixture.ts'

export function asPeersSnapshot(s: DirectorySnapshot): PeersSnapshot {
  return s
}

it('renders a directory snapshot of the mesh', () => {
  const directory = snapshot([peer('bravo')]) as unknown as DirectorySnapshot
  const rows = peerRows(asPeersSnapshot(directory), NOW)
  assert.deepEqual(
    rows.map((r) => r.host),
    ['alpha', 'bravo'],
  )
})
