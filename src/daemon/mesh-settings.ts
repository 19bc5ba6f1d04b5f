/**
 * The mesh settings of a node and whether it has joined: `$MESHCC_HOME/mesh.toml`, written by
 * `meshcc join`, over the `[mesh]` table of `config.toml` (hand-written defaults), over
 * built-in defaults. The daemon reads them at every start, so a joined node hosts the mesh
 * however its daemon was started (`meshcc join`, `meshcc daemon start`, or a compile).
 *
 * ```toml
 * # mesh.toml (or [mesh] in config.toml)
 * joined = true
 * listen = ["/ip4/0.0.0.0/tcp/7341"]     # where this node accepts members
 * bootstrap = ["/ip4/10.0.0.5/tcp/7341/p2p/12D3KooW…"]   # members to dial at start
 * mdns = true                            # find members on the LAN
 * psk_file = "/etc/meshcc/swarm.key"     # optional libp2p private-network key (95 bytes)
 * ```
 *
 * A listen address with port 0 gets a port from the system on the first start; the daemon then
 * writes that port back ({@link pinListenPorts}), so a restarted node is found where members
 * last saw it.
 *
 * @example
 * ```ts
 * const settings = readMeshSettings(paths)
 * if (settings.joined) await host.start()
 * ```
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parse, stringify } from 'smol-toml'
import type { NodePaths } from '../config/paths.ts'
import { ConfigError } from '../errors.ts'
import { writeFileAtomic } from '../identity/files.ts'

export interface MeshSettings {
  joined: boolean
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** Absolute path of the private-network key file, if any. */
  pskFile?: string
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

export function meshSettingsFile(paths: Pick<NodePaths, 'home'>): string {
  return join(paths.home, 'mesh.toml')
}

/** Reads the settings; malformed files raise ConfigError naming the file and key. */
export function readMeshSettings(paths: Pick<NodePaths, 'home' | 'configFile'>): MeshSettings {
  const fromConfig = readTable(paths.configFile, 'mesh')
  const fromJoin = readTable(meshSettingsFile(paths), undefined)
  const merged = { ...fromConfig.values, ...fromJoin.values }
  const source = (key: string) =>
    key in fromJoin.values ? `${fromJoin.file}: ${key}` : `${fromConfig.file}: [mesh] ${key}`
  const psk = merged['psk_file']
  if (psk !== undefined && (typeof psk !== 'string' || psk === '')) {
    throw new ConfigError(`${source('psk_file')}: expected a file path`)
  }
  return {
    joined: bool(merged['joined'], false, source('joined')),
    listen: addrs(merged['listen'], DEFAULT_LISTEN, source('listen')),
    bootstrap: addrs(merged['bootstrap'], [], source('bootstrap')),
    mdns: bool(merged['mdns'], true, source('mdns')),
    ...(typeof psk === 'string' ? { pskFile: resolve(paths.home, psk) } : {}),
  }
}

/** Writes `mesh.toml` (what `meshcc join` decided). */
export async function writeMeshSettings(
  paths: Pick<NodePaths, 'home'>,
  settings: MeshSettings,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const table: Record<string, unknown> = {
    joined: settings.joined,
    listen: settings.listen,
    bootstrap: settings.bootstrap,
    mdns: settings.mdns,
  }
  if (settings.pskFile !== undefined) {
    table['psk_file'] = isAbsolute(settings.pskFile) ? settings.pskFile : resolve(settings.pskFile)
  }
  const text = `# Written by \`meshcc join\`; edit it, or run \`meshcc join\` again.\n${stringify(table)}\n`
  await writeFileAtomic(meshSettingsFile(paths), text, {
    mode: 0o600,
    ...(signal === undefined ? {} : { signal }),
  })
}

/**
 * Replaces port 0 in the listen addresses with the ports the node got (`bound`: its listen
 * multiaddrs), so the next start listens where members remember it. Returns undefined when
 * nothing changes.
 */
export function pinListenPorts(
  listen: readonly string[],
  bound: readonly string[],
): string[] | undefined {
  let changed = false
  const used = new Set<string>()
  const pinned = listen.map((addr) => {
    const m = /^(\/ip[46]\/[^/]+\/tcp\/)0$/.exec(addr)
    if (m === null) return addr
    const host = m[1] as string
    const any = host.startsWith('/ip4/0.0.0.0/') || host.startsWith('/ip6/::/')
    const hit = bound
      .map((b) => b.replace(/\/p2p\/[^/]+$/, ''))
      .find((b) => {
        const port = /\/tcp\/(\d+)$/.exec(b)?.[1]
        return port !== undefined && !used.has(port) && (any || b.startsWith(host))
      })
    const port = hit === undefined ? undefined : /\/tcp\/(\d+)$/.exec(hit)?.[1]
    if (port === undefined) return addr
    used.add(port)
    changed = true
    return `${host}${port}`
  })
  return changed ? pinned : undefined
}

function readTable(
  file: string,
  table: string | undefined,
): { file: string; values: Record<string, unknown> } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, values: {} }
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  let doc: Record<string, unknown>
  try {
    doc = parse(text) as Record<string, unknown>
  } catch (err) {
    throw new ConfigError(`${file}: invalid TOML: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
    })
  }
  if (table === undefined) return { file, values: doc }
  const t = doc[table]
  if (t === undefined) return { file, values: {} }
  if (typeof t !== 'object' || t === null || Array.isArray(t)) {
    throw new ConfigError(`${file}: "${table}" must be a table ([${table}])`)
  }
  return { file, values: t as Record<string, unknown> }
}

function bool(v: unknown, dflt: boolean, source: string): boolean {
  if (v === undefined) return dflt
  if (typeof v === 'boolean') return v
  throw new ConfigError(`${source}: expected true or false, not ${JSON.stringify(v)}`)
}

function addrs(v: unknown, dflt: readonly string[], source: string): string[] {
  if (v === undefined) return [...dflt]
  if (Array.isArray(v) && v.every((a) => typeof a === 'string' && a.startsWith('/'))) {
    return [...(v as string[])]
  }
  throw new ConfigError(`${source}: expected a list of multiaddrs such as "/ip4/0.0.0.0/tcp/7341"`)
}
