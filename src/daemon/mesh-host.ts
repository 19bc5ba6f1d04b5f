/**
 * The mesh as the daemon hosts it: started when the node has joined (`mesh.toml`), restarted by
 * the `mesh-start` control command (after `meshcc join`), stopped with the daemon.
 *
 * At each start it makes sure of the node's certificate (an admin node renews its own, and
 * issues one if `meshcc org init` made the organisation), starts the libp2p mesh with the
 * settings, serves `/meshcc/enroll/1.0.0` and `/meshcc/renew/1.0.0` when this node holds the
 * organisation key (otherwise it renews its own certificate over the mesh: `src/renewal/`), writes
 * the ports it got back into `mesh.toml`, and logs the mesh's events. The advert is built from
 * the machine and the daemon: cores, free slots (cores − compiles running), load, the learned
 * speed figure (`speed-estimator.ts`), toolchains in the store; a poll tells the mesh when the
 * slot count moved, so the compile path itself is untouched, and `changed()` when the speed
 * figure moved.
 *
 * @example
 * ```ts
 * const host = new MeshHost({ paths, log, running: () => daemon.status().activeRequests })
 * if (readMeshSettings(paths).joined) await host.start()
 * control.mesh = host            // peers, mesh-self, mesh-start
 * ```
 */
import { readFile } from 'node:fs/promises'
import { cpus, hostname, loadavg } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { NodePaths } from '../config/paths.ts'
import { enrollmentHandler } from '../enroll/serve.ts'
import { ENROLL_PROTOCOL } from '../enroll/wire.ts'
import { ConfigError, NotJoinedError } from '../errors.ts'
import { loadCrl } from '../identity/crl-store.ts'
import { bytesEqual } from '../identity/encoding.ts'
import { InvitationLedger } from '../identity/invitation-ledger.ts'
import { ensurePersonalOrg } from '../identity/node-identity.ts'
import { loadOrgIfPresent } from '../identity/org-key.ts'
import { identityPaths } from '../identity/paths.ts'
import { loadOrCreatePeerKey, peerKeyPath } from '../mesh/node-key.ts'
import { type HomeMesh, startMeshFromHome } from '../mesh/start-from-home.ts'
import type { AdvertFields, DirectorySnapshot } from '../mesh/types.ts'
import { renewalTimings, startRenewal } from '../renewal/host.ts'
import { ToolchainStore } from '../toolchain/store.ts'
import type { MeshControl, MeshSelf } from './control.ts'
import type { Logger } from './logger.ts'
import {
  type MeshSettings,
  pinListenPorts,
  readMeshSettings,
  writeMeshSettings,
} from './mesh-settings.ts'

export interface MeshHostInit {
  paths: NodePaths
  log: Logger
  /** Compiles the daemon is running now. */
  running: () => number
  /** Distributed compilation beside the mesh (`remote-host.ts`): attached at start, detached at stop. */
  remote?: {
    attach(mesh: HomeMesh): Promise<void>
    detach(): Promise<void>
    advert(base: AdvertFields): AdvertFields
  }
  /** The advertised speed figure (default 1: unknown). */
  speed?: () => number
  /** How often the slot count is compared (default 250 ms). */
  slotPollMs?: number
  /** How often the toolchain list is re-read (default 30 s). */
  toolchainPollMs?: number
  /**
   * Longest time between two checks of the own certificate for renewal (default 6 h, or
   * `MESHCC_RENEW_CHECK`). A member also wakes when its certificate is due.
   */
  renewCheckMs?: number
  /** First retry of a failed renewal (default 30 s, at most `renewCheckMs`). */
  renewRetryMs?: number
  /**
   * Lifetime of the certificates this node issues when it holds the organisation key: its own,
   * enrolled and renewed members' (default 14 days, or `MESHCC_CERT_TTL`).
   */
  certTtlSeconds?: number
  /** Where `MESHCC_CERT_TTL` and `MESHCC_RENEW_CHECK` are read (default `process.env`). */
  env?: NodeJS.ProcessEnv
}

/** Invitations carry at most 16 addresses; these are the most useful first. */
const MAX_SELF_ADDRS = 12

export class MeshHost implements MeshControl {
  readonly #init: MeshHostInit
  #mesh: HomeMesh | undefined
  #settings: MeshSettings | undefined
  #timers: NodeJS.Timeout[] = []
  #renewal: { stop(): Promise<void> } | undefined
  #toolchains: string[] = []
  #queue: Promise<unknown> = Promise.resolve()
  /** Why the last start failed, for `peers` and `mesh-self` to report. */
  #lastError: string | undefined
  /** Starts asked for and not finished. */
  #starting = 0
  readonly #cores = Math.max(1, cpus().length)

  constructor(init: MeshHostInit) {
    this.#init = init
  }

  /** True while the node has joined (the daemon then never idles out). */
  joined(): boolean {
    return this.#settings?.joined === true || this.#mesh !== undefined
  }

  snapshot(): DirectorySnapshot {
    return this.#require().snapshot()
  }

  self(): MeshSelf {
    const mesh = this.#require()
    return {
      peerId: mesh.peerId.toString(),
      org: mesh.identity().cert.org,
      addrs: selfAddrs(mesh.addrs()),
    }
  }

  /** (Re)starts the mesh from the current settings and identity; serialised with stop(). */
  start(): Promise<MeshSelf> {
    this.#starting++
    const run = this.#queue.then(() =>
      this.#start()
        .finally(() => this.#starting--)
        .then(
          (self) => {
            this.#lastError = undefined
            return self
          },
          (err: unknown) => {
            this.#lastError = (err as Error).message
            throw err
          },
        ),
    )
    this.#queue = run.catch(() => undefined)
    return run
  }

  stop(): Promise<void> {
    const run = this.#queue.then(() => this.#stop())
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Publishes a fresh advert (something in it moved), if the mesh runs. */
  changed(): void {
    this.#mesh?.changed()
  }

  /** The advert fields of this node now. */
  advert(): AdvertFields {
    const cores = this.#cores
    const running = this.#init.running()
    const fields: AdvertFields = {
      host: hostname() || 'node',
      platform: process.platform,
      arch: process.arch,
      cores,
      freeSlots: Math.max(0, cores - running),
      load: Math.round(((loadavg()[0] ?? 0) / cores) * 100) / 100,
      queuedJobs: Math.max(0, running - cores),
      speed: this.#init.speed?.() ?? 1,
      toolchains: this.#toolchains,
    }
    return this.#init.remote === undefined ? fields : this.#init.remote.advert(fields)
  }

  #require(): HomeMesh {
    if (this.#mesh === undefined && (this.#starting > 0 || this.#settings?.joined === true)) {
      throw new NotJoinedError(
        `the mesh is not running on this node${this.#lastError === undefined ? ' yet' : `: ${this.#lastError}`}`,
        { hint: `it starts with the daemon; see ${this.#init.paths.logDir}/daemon.log` },
      )
    }
    if (this.#mesh === undefined) throw new NotJoinedError('this node has not joined a mesh')
    return this.#mesh
  }

  async #start(): Promise<MeshSelf> {
    await this.#stop()
    const { paths, log } = this.#init
    const settings = readMeshSettings(paths)
    this.#settings = settings
    if (!settings.joined) throw new NotJoinedError('this node has not joined a mesh')
    const ids = identityPaths(paths.home)
    const key = await loadOrCreatePeerKey(peerKeyPath(paths.home))
    const peerId = peerIdFromPrivateKey(key)
    const org = await loadOrgIfPresent(ids)
    const timings = renewalTimings(this.#init)
    const ttl =
      timings.certTtlSeconds === undefined ? {} : { certTtlSeconds: timings.certTtlSeconds }
    if (org !== undefined) {
      // The admin's own certificate: issued after `meshcc org init`, renewed before it lapses.
      const { created } = await ensurePersonalOrg(ids, peerId, ttl)
      if (created !== false) log.info('own certificate issued', { created, org: org.org })
    }
    let psk: Uint8Array | undefined
    if (settings.pskFile !== undefined) {
      try {
        psk = new Uint8Array(await readFile(settings.pskFile))
      } catch (err) {
        throw new ConfigError(`cannot read the private-network key ${settings.pskFile}`, {
          cause: err,
        })
      }
    }
    await this.#refreshToolchains()
    const startWith = (listen: string[]) =>
      startMeshFromHome({
        home: paths.home,
        advertSource: () => this.advert(),
        listen,
        bootstrap: settings.bootstrap,
        mdns: settings.mdns,
        ...(psk === undefined ? {} : { psk }),
        // Connections from this machine are exempt from the per-host inbound rate limit.
        allow: ['/ip4/127.0.0.0/ipcidr/8'],
      })
    let mesh: HomeMesh
    let listened = settings.listen
    try {
      mesh = await startWith(listened)
    } catch (err) {
      // The port recorded at the last start was taken meanwhile: take any port rather than
      // stay out of the mesh (members find the new one through bootstrap, mDNS and the DHT).
      if (!/EADDRINUSE|address already in use/i.test(describeError(err))) throw err
      listened = settings.listen.map((a) => a.replace(/\/tcp\/\d+$/, '/tcp/0'))
      log.warn('listen port taken; listening on another', { listen: settings.listen, err })
      mesh = await startWith(listened)
    }
    // The ports obtained are on disk before anyone can see the mesh (`join` returns once it can).
    const pinned = pinListenPorts(listened, mesh.addrs())
    if (pinned !== undefined) {
      this.#settings = { ...settings, listen: pinned }
      await writeMeshSettings(paths, this.#settings).catch((err) =>
        log.warn('cannot record the listen ports', { err }),
      )
    }
    this.#mesh = mesh
    this.#logEvents(mesh)
    // Only an admin of the organisation this node belongs to issues certificates for it (a node
    // that joined another organisation may still hold the key of its earlier personal one).
    const admin =
      org !== undefined && bytesEqual(org.publicKey, mesh.identity().trustAnchor.publicKey)
    const ledger = admin
      ? await InvitationLedger.open(ids.invitations).catch((err: unknown) => {
          log.error('cannot open the invitation ledger; not enrolling members', { err })
          return undefined
        })
      : undefined
    if (admin && ledger !== undefined) {
      await mesh.node.handle(
        ENROLL_PROTOCOL,
        enrollmentHandler({
          org,
          ledger,
          crl: () => loadCrl(ids, [org]),
          ...ttl,
          onResult: (peer, r) =>
            r.ok
              ? log.info('enrolled a new member', { peer, name: r.name })
              : log.warn('refused an enrollment', { peer, reason: r.reason }),
        }),
        { maxInboundStreams: 1, maxOutboundStreams: 1 },
      )
    }
    // Key holders renew members' certificates; members renew their own (`src/renewal/`).
    this.#renewal = await startRenewal({
      mesh,
      home: paths.home,
      org: admin ? org : undefined,
      log,
      ...timings,
      retryMs: this.#init.renewRetryMs,
    })
    this.#startTimers(mesh, admin, timings.renewCheckMs, ttl)
    await this.#init.remote
      ?.attach(mesh)
      .catch((err) => log.error('distributed compilation did not start', { err }))
    const self = this.self()
    log.info('mesh started', { peerId: self.peerId, org: self.org, addrs: mesh.addrs() })
    return self
  }

  async #stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    const renewal = this.#renewal
    this.#renewal = undefined
    await renewal?.stop()
    const mesh = this.#mesh
    this.#mesh = undefined
    if (mesh === undefined) return
    await this.#init.remote?.detach().catch(() => {})
    await mesh.stop().catch((err) => this.#init.log.warn('stopping the mesh failed', { err }))
    this.#init.log.info('mesh stopped')
  }

  #startTimers(
    mesh: HomeMesh,
    admin: boolean,
    renewCheckMs: number,
    ttl: { certTtlSeconds?: number },
  ): void {
    const { log, paths } = this.#init
    let lastRunning = this.#init.running()
    const slots = setInterval(() => {
      const now = this.#init.running()
      if (now !== lastRunning) {
        lastRunning = now
        mesh.changed()
      }
    }, this.#init.slotPollMs ?? 250)
    const toolchains = setInterval(() => {
      void this.#refreshToolchains().then((moved) => moved && mesh.changed())
    }, this.#init.toolchainPollMs ?? 30_000)
    this.#timers.push(slots, toolchains)
    if (admin) {
      const renew = setInterval(() => {
        const ids = identityPaths(paths.home)
        void ensurePersonalOrg(ids, mesh.peerId, ttl)
          .then(async ({ created }) => {
            if (created === false) return
            log.info('own certificate renewed', { created })
            await mesh.reloadIdentity()
          })
          .catch((err) => log.warn('renewing the own certificate failed', { err }))
      }, renewCheckMs)
      this.#timers.push(renew)
    }
    for (const t of this.#timers) t.unref()
  }

  /** Re-reads the toolchain store; true if the list changed. */
  async #refreshToolchains(): Promise<boolean> {
    let ids: string[]
    try {
      const list = await new ToolchainStore(join(this.#init.paths.home, 'toolchains')).list()
      ids = list
        .filter((t) => t.complete)
        .map((t) => t.id)
        .sort()
    } catch {
      ids = [] // no store yet
    }
    if (ids.join() === this.#toolchains.join()) return false
    this.#toolchains = ids
    return true
  }

  #logEvents(mesh: HomeMesh): void {
    const log = this.#init.log.child({ component: 'mesh' })
    const on = (type: string, fn: (d: Record<string, unknown>) => void) =>
      mesh.addEventListener(type, (e) => fn((e as CustomEvent<Record<string, unknown>>).detail))
    on('member:admitted', (d) => log.info('member admitted', d))
    on('member:refused', (d) => log.warn('peer refused', d))
    on('member:left', (d) => log.info('member left', d))
    on('advert:expired', (d) => log.info('advert expired', d))
    on('advert:rejected', (d) => log.warn('advert rejected', d))
    on('revocations:updated', (d) => log.info('revocation list updated', d))
    on('revocations:rejected', (d) => log.warn('revocation list rejected', d))
    on('debug', (d) => log.debug(String(d['msg']), d))
  }
}

/** Addresses worth putting in an invitation: LAN IPv4 first, then loopback, then the rest. */
function selfAddrs(addrs: string[]): string[] {
  const rank = (a: string): number =>
    a.startsWith('/ip4/127.') ? 1 : a.startsWith('/ip4/') ? 0 : a.startsWith('/ip6/fe80') ? 3 : 2
  return [...addrs].sort((a, b) => rank(a) - rank(b)).slice(0, MAX_SELF_ADDRS)
}

/** The error's message with its causes, for matching system error codes wrapped by libp2p. */
function describeError(err: unknown): string {
  const parts: string[] = []
  for (let e = err, i = 0; e !== undefined && e !== null && i < 5; i++) {
    const x = e as {
      name?: unknown
      message?: unknown
      code?: unknown
      cause?: unknown
      errors?: unknown
    }
    parts.push(String(x.name), String(x.message), String(x.code))
    if (Array.isArray(x.errors)) parts.push(...x.errors.map((y) => describeError(y)))
    e = x.cause
  }
  return parts.join(' ')
}
