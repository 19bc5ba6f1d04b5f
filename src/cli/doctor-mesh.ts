/**
 * `meshcc doctor`'s mesh checks: joined or not, then the identity (`doctor-certificate.ts`),
 * the admitted members connected now (asked of the running daemon over its control socket),
 * listen addresses, mDNS and the private-network key. Each failing check carries a hint.
 */
import { readFile } from 'node:fs/promises'
import type { NodePaths } from '../config/paths.ts'
import { type MeshSettings, readMeshSettings } from '../daemon/mesh-settings.ts'
import type { DirectorySnapshot } from '../mesh/types.ts'
import { controlRequest, isDaemonAbsent } from './control-client.ts'
import { checkIdentity } from './doctor-certificate.ts'
import type { Check } from './doctor-command.ts'

const PSK_HEADER = '/key/swarm/psk/1.0.0/'

export async function checkMesh(paths: NodePaths): Promise<Check[]> {
  let settings: MeshSettings
  try {
    settings = readMeshSettings(paths)
  } catch (err) {
    return [
      {
        name: 'mesh',
        status: 'fail',
        detail: (err as Error).message,
        hint: 'fix the file, or run `meshcc join` again to rewrite mesh.toml',
      },
    ]
  }
  if (!settings.joined) {
    return [
      {
        name: 'mesh',
        status: 'ok',
        detail: 'not joined: compiles use this machine only',
        hint: 'run `meshcc join` to start or join a mesh',
      },
    ]
  }
  const checks: Check[] = [{ name: 'mesh', status: 'ok', detail: 'joined' }]
  checks.push(...(await checkIdentity(paths.home)))
  const live = await askPeers(paths)
  checks.push(membersCheck(live, paths))
  checks.push(listenCheck(settings, live))
  checks.push(mdnsCheck(settings, live))
  checks.push(await pskCheck(settings))
  return checks
}

type Live = { snapshot: DirectorySnapshot } | { absent: true } | { error: string }

async function askPeers(paths: NodePaths): Promise<Live> {
  try {
    const reply = await controlRequest(paths, 'peers', { timeoutMs: 3000 })
    return { snapshot: reply['snapshot'] as DirectorySnapshot }
  } catch (err) {
    return isDaemonAbsent(err) ? { absent: true } : { error: (err as Error).message }
  }
}

function membersCheck(live: Live, paths: NodePaths): Check {
  const name = 'members'
  if ('absent' in live) {
    return {
      name,
      status: 'warn',
      detail: 'the daemon is not running, so this node is not in the mesh now',
      hint: 'run `meshcc daemon start` (a joined daemon then stays up)',
    }
  }
  if ('error' in live) {
    return {
      name,
      status: 'fail',
      detail: `the daemon's mesh does not answer: ${live.error}`,
      hint: `see ${paths.logDir}/daemon.log`,
    }
  }
  const connected = live.snapshot.peers.filter((p) => p.connected)
  const known = live.snapshot.peers.length
  const admins = connected.filter((p) => p.roles.includes('admin')).length
  if (connected.length === 0) {
    return {
      name,
      status: 'warn',
      detail: `no admitted member connected${known > 0 ? ` (${known} known from gossip)` : ''}`,
      hint:
        'check the bootstrap addresses (`meshcc join --bootstrap ADDR`), mDNS on the LAN, that ' +
        'members use the same private-network key, and `meshcc peers` on another member',
    }
  }
  return {
    name,
    status: 'ok',
    detail: `${connected.length} admitted member${connected.length === 1 ? '' : 's'} connected (${admins} with the admin role), ${known} known`,
  }
}

function listenCheck(settings: MeshSettings, live: Live): Check {
  const bound = 'snapshot' in live ? live.snapshot.self.addrs : []
  return {
    name: 'listen',
    status: 'ok',
    detail:
      bound.length > 0
        ? `${bound.join(', ')}`
        : `${settings.listen.join(', ')} (configured; the daemon is not listening now)`,
  }
}

function mdnsCheck(settings: MeshSettings, live: Live): Check {
  if (settings.mdns)
    return { name: 'mDNS', status: 'ok', detail: 'on (members on the LAN are found)' }
  // Members may dial this node (a first machine has nobody to dial): warn only when alone.
  const alone = !('snapshot' in live) || !live.snapshot.peers.some((p) => p.connected)
  if (settings.bootstrap.length === 0 && alone) {
    return {
      name: 'mDNS',
      status: 'warn',
      detail: 'off, and no bootstrap address: this node finds no member by itself',
      hint: 'run `meshcc join --mdns` or `meshcc join --bootstrap ADDR`',
    }
  }
  return {
    name: 'mDNS',
    status: 'ok',
    detail: `off (bootstrap: ${settings.bootstrap.length} address${settings.bootstrap.length === 1 ? '' : 'es'})`,
  }
}

async function pskCheck(settings: MeshSettings): Promise<Check> {
  const name = 'private network key'
  if (settings.pskFile === undefined) {
    return {
      name,
      status: 'ok',
      detail: 'off (outsiders can attempt a handshake; admission still refuses them)',
    }
  }
  let bytes: Buffer
  try {
    bytes = await readFile(settings.pskFile)
  } catch (err) {
    return {
      name,
      status: 'fail',
      detail: `${settings.pskFile} unreadable (${(err as NodeJS.ErrnoException).code ?? err})`,
      hint: 'copy the organisation key file here, or `meshcc join --psk FILE`',
    }
  }
  const lines = bytes.toString('latin1').trim().split(/\r?\n/)
  if (
    lines[0] !== PSK_HEADER ||
    lines[1] !== '/base16/' ||
    !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')
  ) {
    return {
      name,
      status: 'fail',
      detail: `${settings.pskFile} is not a libp2p pre-shared key`,
      hint: `the file holds three lines: ${PSK_HEADER}, /base16/, 64 hex digits`,
    }
  }
  return { name, status: 'ok', detail: `on (${settings.pskFile})` }
}
