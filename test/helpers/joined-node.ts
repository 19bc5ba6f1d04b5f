/**
 * Nodes driven through the real CLI for the `meshcc join` tests: each has its own
 * `MESHCC_HOME`, joins on loopback TCP with mDNS off, and is inspected with `meshcc peers
 * --json`. Daemons are stopped by the pid in their pid file (`TestHome.cleanup`).
 *
 * @example
 * ```ts
 * const a = await joinedNode()            // personal organisation
 * const token = await a.invite()
 * const b = await joinedNode({ invite: token })
 * await b.waitPeers((s) => s.peers.some((p) => p.peerId === a.peerId))
 * ```
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DirectorySnapshot } from '../../src/mesh/types.ts'
import {
  type CommandResult,
  makeHome,
  meshccBin,
  runCommand,
  type TestHome,
} from './meshcc-home.ts'

export const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

export interface JoinedNode {
  h: TestHome
  peerId: string
  org: string
  join: { created: string; addrs: string[] }
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>
  peers(): Promise<DirectorySnapshot>
  /** Polls `peers --json` until `pred` holds (default 20 s). */
  waitPeers(pred: (s: DirectorySnapshot) => boolean, timeoutMs?: number): Promise<DirectorySnapshot>
  invite(args?: string[]): Promise<string>
}

/** A fresh home that ran `meshcc join [--invite TOKEN]` on loopback. */
export async function joinedNode(
  o: { invite?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<JoinedNode> {
  const h = await makeHome('meshcc-j-')
  const env = { ...h.env, ...o.env }
  const cli = (args: string[], e: NodeJS.ProcessEnv = env) =>
    runCommand(meshccBin, args, { cwd: h.dir, env: e })
  const args = ['join', ...LOOPBACK, '--json', ...(o.invite ? ['--invite', o.invite] : [])]
  const r = await cli(args)
  if (r.code !== 0) {
    await h.cleanup()
    assert.fail(`meshcc ${args.join(' ')} → ${r.code}: ${r.stdout}${r.stderr}`)
  }
  const j = JSON.parse(r.stdout.toString()) as {
    peerId: string
    org: string
    created: string
    addrs: string[]
  }
  const peers = async (): Promise<DirectorySnapshot> => {
    const p = await cli(['peers', '--json'])
    assert.equal(p.code, 0, `peers --json: ${p.stderr}`)
    return JSON.parse(p.stdout.toString()) as DirectorySnapshot
  }
  return {
    h,
    peerId: j.peerId,
    org: j.org,
    join: j,
    cli,
    peers,
    waitPeers: async (pred, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs
      let last: DirectorySnapshot | undefined
      for (;;) {
        last = await peers().catch(() => last)
        if (last !== undefined && pred(last)) return last
        if (Date.now() > deadline) {
          assert.fail(`peers of ${j.peerId} never matched: ${JSON.stringify(last?.peers)}`)
        }
        await sleep(250)
      }
    },
    invite: async (extra = []) => {
      const t = await cli(['org', 'invite', ...extra])
      assert.equal(t.code, 0, `org invite: ${t.stderr}`)
      return t.stdout.toString().trim()
    },
  }
}

/** Whether `s` lists `peerId` as a connected member with a live advert. */
export function sees(s: DirectorySnapshot, peerId: string): boolean {
  return s.peers.some((p) => p.peerId === peerId && p.connected && p.cores !== null)
}
