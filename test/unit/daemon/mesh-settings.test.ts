/**
 * Mesh settings (`mesh.toml` over `[mesh]` in `config.toml`) and the pinning of listen ports
 * obtained for port 0.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  DEFAULT_LISTEN,
  pinListenPorts,
  readMeshSettings,
  writeMeshSettings,
} from '../../../src/daemon/mesh-settings.ts'
import { ConfigError } from '../../../src/errors.ts'

describe('mesh settings', () => {
  let home: string
  let paths: { home: string; configFile: string }
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'meshcc-ms-'))
    paths = { home, configFile: join(home, 'config.toml') }
  })
  after(() => rm(home, { recursive: true, force: true }))

  it('defaults: not joined, listen on every interface, mDNS on', () => {
    assert.deepEqual(readMeshSettings(paths), {
      joined: false,
      listen: DEFAULT_LISTEN,
      bootstrap: [],
      mdns: true,
    })
  })

  it('config.toml [mesh] gives defaults; mesh.toml (join) wins', async () => {
    await writeFile(
      paths.configFile,
      '[mesh]\nmdns = false\nbootstrap = ["/ip4/10.0.0.1/tcp/7341"]\npsk_file = "swarm.key"\n',
    )
    let s = readMeshSettings(paths)
    assert.equal(s.joined, false)
    assert.equal(s.mdns, false)
    assert.deepEqual(s.bootstrap, ['/ip4/10.0.0.1/tcp/7341'])
    assert.equal(s.pskFile, join(home, 'swarm.key'))
    await writeMeshSettings(paths, { ...s, joined: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
    await writeFile(paths.configFile, '[mesh]\nmdns = true\n')
    s = readMeshSettings(paths)
    assert.equal(s.joined, true)
    assert.equal(s.mdns, false) // written by join
    assert.deepEqual(s.listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.equal(s.pskFile, join(home, 'swarm.key'))
  })

  it('bad values are ConfigErrors naming the file and key', async () => {
    await writeFile(join(home, 'mesh.toml'), 'joined = "yes"\n')
    assert.throws(
      () => readMeshSettings(paths),
      (e: Error) => {
        assert.ok(e instanceof ConfigError)
        assert.match(e.message, /mesh\.toml: joined/)
        return true
      },
    )
    await writeFile(join(home, 'mesh.toml'), 'listen = ["0.0.0.0:7341"]\n')
    assert.throws(() => readMeshSettings(paths), /multiaddr/)
    await writeFile(paths.configFile, 'mesh = 3\n')
    assert.throws(() => readMeshSettings(paths), /must be a table/)
  })

  it('pins port 0 to the port obtained, and leaves fixed ports alone', () => {
    const id = '/p2p/12D3KooWabc'
    assert.deepEqual(pinListenPorts(['/ip4/127.0.0.1/tcp/0'], [`/ip4/127.0.0.1/tcp/41000${id}`]), [
      '/ip4/127.0.0.1/tcp/41000',
    ])
    // A wildcard listen shows up as interface addresses; any of them carries the port.
    assert.deepEqual(
      pinListenPorts(
        ['/ip4/0.0.0.0/tcp/0'],
        [`/ip4/127.0.0.1/tcp/42000${id}`, `/ip4/192.168.1.5/tcp/42000${id}`],
      ),
      ['/ip4/0.0.0.0/tcp/42000'],
    )
    assert.equal(
      pinListenPorts(['/ip4/0.0.0.0/tcp/7341'], [`/ip4/10.0.0.2/tcp/7341${id}`]),
      undefined,
    )
    assert.equal(pinListenPorts(['/ip4/127.0.0.1/tcp/0'], []), undefined)
  })
})
