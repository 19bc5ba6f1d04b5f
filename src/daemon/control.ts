/**
 * The daemon's control commands (`MCJ1` JSON messages on the local socket), used by the CLI:
 * `status`, `stop`, `stats`, `stats-zero`, `cache-clear`, and for the mesh `peers` (the
 * directory snapshot `meshcc peers` shows), `mesh-self` (peer id and addresses, for
 * `meshcc org invite`) and `mesh-start` (start or restart the mesh after `meshcc join`), and
 * `transfers` (toolchain transfers under way, for `meshcc toolchain list`).
 * Replies are `{ ok: true, … }` or `{ ok: false, error: { code, message, hint } }`.
 *
 * Misses are answered before their cache write (src/compile/pending-stores.ts): the commands
 * that report on the cache (`status`, which `meshcc doctor` asks before sizing the cache
 * directory, `stats`, `stats-zero`, `cache-clear`) first let the writes of compiles already
 * answered settle, so a look right after a build sees every entry.
 *
 * @example
 * ```ts
 * const reply = await runControl({ cmd: 'status' }, context)
 * ```
 */
import { MeshccError, NotJoinedError, ProtocolError } from '../errors.ts'
import type { DirectorySnapshot } from '../mesh/types.ts'
import type { TransferProgressEvent } from '../toolchain-transfer/transfer-progress.ts'
import type { StatsSnapshot } from '../stats/types.ts'

export type ControlCommand =
  | 'status'
  | 'stop'
  | 'stats'
  | 'stats-zero'
  | 'cache-clear'
  | 'peers'
  | 'mesh-self'
  | 'mesh-start'
  | 'transfers'
export const controlCommands: readonly ControlCommand[] = [
  'status',
  'stop',
  'stats',
  'stats-zero',
  'cache-clear',
  'peers',
  'mesh-self',
  'mesh-start',
  'transfers',
]

/** This node's place in the mesh, as `mesh-self` and `mesh-start` answer it. */
export interface MeshSelf {
  peerId: string
  org: string
  /** Dialable addresses, with `/p2p/<peer id>`. */
  addrs: string[]
}

/** What `cache-clear` removed (as the store's index counted it just before). */
export interface CacheCleared {
  entries: number
  bytes: number
}

/** What `status` answers (also printed by `meshcc daemon status --json`). */
export interface DaemonStatus {
  pid: number
  version: string
  node: string
  home: string
  socket: string
  startedAt: string
  uptimeMs: number
  activeRequests: number
  servedRequests: number
}

/** Hooks the daemon's owner supplies for the stats and cache commands. */
export interface ControlHooks {
  stats(): StatsSnapshot | Promise<StatsSnapshot>
  /** Zeroes the counters (persisting that) and returns the zeroed snapshot. */
  zeroStats(): StatsSnapshot | Promise<StatsSnapshot>
  /** Removes every cache entry (`meshcc cache clear`). */
  clearCache(): CacheCleared | Promise<CacheCleared>
  /** Waits (bounded) for the cache writes of compiles already answered; never rejects. */
  settle?: () => Promise<void>
  /** The mesh this daemon hosts; absent in daemons built without one (tests). */
  mesh?: MeshControl
  /** Toolchain transfers under way (`meshcc toolchain list`); none when absent. */
  transfers?: () => readonly TransferProgressEvent[]
}

/** What the mesh host answers; each throws NotJoinedError while the node is not a member. */
export interface MeshControl {
  snapshot(): DirectorySnapshot
  self(): MeshSelf
  /** (Re)reads the join settings and identity and (re)starts the mesh. */
  start(): Promise<MeshSelf>
}

export interface ControlContext {
  hooks: ControlHooks
  status(): DaemonStatus
  /** Starts a graceful stop after the reply has been sent. */
  requestStop(): void
}

export type ControlReply =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message: string; hint: string } }

export function parseControlRequest(value: unknown): ControlCommand {
  const cmd = (value as { cmd?: unknown } | null)?.cmd
  if (typeof cmd !== 'string' || !controlCommands.includes(cmd as ControlCommand)) {
    throw new ProtocolError(`unknown control command ${JSON.stringify(cmd)}`)
  }
  return cmd as ControlCommand
}

/** The commands whose answer depends on the cache's contents. */
const settling: ReadonlySet<ControlCommand> = new Set([
  'status',
  'stats',
  'stats-zero',
  'cache-clear',
])

export async function runControl(value: unknown, ctx: ControlContext): Promise<ControlReply> {
  try {
    const cmd = parseControlRequest(value)
    if (settling.has(cmd)) await ctx.hooks.settle?.()
    switch (cmd) {
      case 'status':
        return { ok: true, status: ctx.status() }
      case 'stop':
        ctx.requestStop()
        return { ok: true, pid: process.pid }
      case 'stats':
        return { ok: true, stats: await ctx.hooks.stats() }
      case 'stats-zero':
        return { ok: true, stats: await ctx.hooks.zeroStats() }
      case 'cache-clear':
        return { ok: true, removed: await ctx.hooks.clearCache() }
      case 'peers':
        return { ok: true, snapshot: mesh(ctx).snapshot() }
      case 'mesh-self':
        return { ok: true, self: mesh(ctx).self() }
      case 'mesh-start':
        return { ok: true, self: await mesh(ctx).start() }
      case 'transfers':
        return { ok: true, transfers: ctx.hooks.transfers?.() ?? [] }
    }
  } catch (err) {
    if (err instanceof MeshccError) return { ok: false, error: err.toJSON() }
    return { ok: false, error: { code: 'ERR_MESHCC', message: String(err), hint: '' } }
  }
}

function mesh(ctx: ControlContext): MeshControl {
  if (ctx.hooks.mesh === undefined) throw new NotJoinedError('this daemon hosts no mesh')
  return ctx.hooks.mesh
}
