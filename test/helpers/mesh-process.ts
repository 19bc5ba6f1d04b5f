/**
 * Drives mesh nodes running as separate processes (`mesh-node-runner.ts`): prepares a
 * `MESHCC_HOME` with a peer key and a certificate of a test organisation, spawns the runner with
 * the project's Node, and exchanges JSON lines with it. Processes are stopped by their own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { issueCertificate } from '../../src/identity/certificate.ts'
import { saveNodeIdentity } from '../../src/identity/node-identity.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import type { Org } from '../../src/identity/types.ts'
import { loadOrCreatePeerKey, peerKeyPath } from '../../src/mesh/node-key.ts'
import type { DirectorySnapshot } from '../../src/mesh/types.ts'

const runner = fileURLToPath(new URL('./mesh-node-runner.ts', import.meta.url))

/** A MESHCC_HOME whose node holds a certificate of `org` (issued for its own peer key). */
export async function prepareHome(
  org: Org,
  name: string,
  dir?: string,
): Promise<{ home: string; peerId: string }> {
  const home = dir ?? (await mkdtemp(join('/tmp', 'meshcc-mp-')))
  const key = await loadOrCreatePeerKey(peerKeyPath(home))
  const peerId = peerIdFromPrivateKey(key)
  const certificate = issueCertificate(org, { peerId, name, roles: ['builder', 'client'] })
  await saveNodeIdentity(identityPaths(home), {
    certificate,
    trustAnchor: { org: org.org, publicKey: org.publicKey },
  })
  return { home, peerId: peerId.toString() }
}

export type RunnerEvent = { event: string } & Record<string, unknown>

export class MeshProcess {
  readonly child: ChildProcess
  readonly events: RunnerEvent[] = []
  readonly stderr: string[] = []
  #waiters: Array<() => void> = []

  constructor(home: string, env: Record<string, string> = {}, command: string[] = []) {
    const argv = [...command, process.execPath, runner]
    this.child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, MESHCC_HOME: home, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as RunnerEvent)
      } catch {
        this.stderr.push(line)
      }
      for (const w of this.#waiters.splice(0)) w()
    })
    this.child.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()))
    this.child.on('exit', () => {
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  /** Waits for the first event matching `pred` at or after index `from`. */
  async waitEvent(
    pred: (e: RunnerEvent) => boolean,
    timeoutMs = 20_000,
    from = 0,
  ): Promise<RunnerEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.events.slice(from).find(pred)
      if (hit !== undefined) return hit
      if (this.child.exitCode !== null) {
        throw new Error(
          `runner exited (${this.child.exitCode}): ${this.stderr.join('').slice(-2000)}`,
        )
      }
      const left = deadline - Date.now()
      if (left <= 0)
        throw new Error(
          `timed out waiting for an event; stderr: ${this.stderr.join('').slice(-1000)}`,
        )
      await new Promise<void>((r) => {
        const t = setTimeout(r, left)
        this.#waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
  }

  async ready(): Promise<{ peerId: string; addrs: string[] }> {
    const e = await this.waitEvent((x) => x.event === 'ready')
    return { peerId: e['peerId'] as string, addrs: e['addrs'] as string[] }
  }

  async snapshot(): Promise<DirectorySnapshot> {
    const from = this.events.length
    this.child.stdin?.write('snapshot\n')
    const e = await this.waitEvent((x) => x.event === 'snapshot', 10_000, from)
    return e['snapshot'] as DirectorySnapshot
  }

  send(cmd: string): void {
    this.child.stdin?.write(`${cmd}\n`)
  }

  /** SIGTERM (clean stop) or SIGKILL (vanish), by this child's pid only. */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.kill(signal)
    await exited
  }
}

export async function removeHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true })
}
