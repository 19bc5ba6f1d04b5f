import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { peerKeyPath } from '../../../src/mesh/node-key.ts'
import { startMeshFromHome } from '../../../src/mesh/start-from-home.ts'
import { advertFields } from '../../helpers/mesh.ts'

describe('startMeshFromHome', () => {
  it('refuses to join without a node certificate, keeping the peer key it made', async () => {
    const home = await mkdtemp(join(tmpdir(), 'meshcc-nojoin-'))
    try {
      await assert.rejects(
        startMeshFromHome({ home, advertSource: () => advertFields(), transport: 'memory' }),
        { code: 'ERR_MESHCC_NOT_JOINED' },
      )
      // The peer key exists now, so `meshcc join` can have a certificate issued for its peer id.
      assert.ok((await stat(peerKeyPath(home))).isFile())
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })
})
