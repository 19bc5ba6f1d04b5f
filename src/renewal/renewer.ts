/**
 * Keeps a member's certificate alive: once two thirds of its lifetime have passed
 * (`needsRenewal`), asks a key holder over the mesh for a new one (`requestRenewal`), stores it
 * atomically in `identity/node.cert`, and re-presents it on every open connection
 * (`reloadIdentity`), so members re-check the new certificate instead of cutting this node off
 * when the old one expires. With no key holder reachable it retries with exponential backoff
 * and jitter (from `retryMs` up to `maxRetryMs`); a refusal for good (expired, revoked) is
 * retried only every `checkMs`, since only a new invitation helps then. Every attempt is logged
 * as a structured line and recorded in `identity/renewal.json` for `meshcc doctor`.
 *
 * Nodes that hold the organisation key renew their own certificate instead
 * (`ensurePersonalOrg`, see `src/daemon/mesh-host.ts`) and do not run this.
 *
 * @example
 * ```ts
 * const renewer = new CertificateRenewer({ mesh, home, log, checkMs: 6 * 3_600_000 })
 * renewer.start()
 * // …
 * renewer.stop()
 * ```
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../daemon/logger.ts'
import { writeFileAtomic } from '../identity/files.ts'
import { identityPaths } from '../identity/paths.ts'
import { needsRenewal } from '../identity/verify-certificate.ts'
import type { HomeMesh } from '../mesh/start-from-home.ts'
import { type RenewalAttempt, requestRenewal } from './client.ts'
import { EMPTY_RENEWAL_STATE, type RenewalState, writeRenewalState } from './state.ts'

export interface RenewerInit {
  mesh: Pick<HomeMesh, 'node' | 'admission' | 'snapshot' | 'dial' | 'identity' | 'reloadIdentity'>
  /** `MESHCC_HOME`: the certificate and the state file live under it. */
  home: string
  log: Logger
  /** Longest sleep between two checks (default 6 h); the check is also timed to the due date. */
  checkMs?: number
  /** First retry after a failed attempt (default 30 s, at most `checkMs`); doubles each time. */
  retryMs?: number
  /** Longest retry interval (default 30 min, at most `checkMs`). */
  maxRetryMs?: number
  now?: () => number
  random?: () => number
}

export class CertificateRenewer {
  readonly #init: RenewerInit
  readonly #now: () => number
  readonly #checkMs: number
  readonly #retryMs: number
  readonly #maxRetryMs: number
  #stop: AbortController | undefined
  #state: RenewalState = { ...EMPTY_RENEWAL_STATE }
  #running: Promise<void> | undefined

  constructor(init: RenewerInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
    this.#checkMs = Math.max(10, init.checkMs ?? 6 * 3_600_000)
    this.#retryMs = Math.max(10, Math.min(init.retryMs ?? 30_000, this.#checkMs))
    this.#maxRetryMs = Math.max(
      this.#retryMs,
      Math.min(init.maxRetryMs ?? 1_800_000, this.#checkMs),
    )
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#stop !== undefined) return
    const stop = new AbortController()
    this.#stop = stop
    this.#running = this.#loop(stop.signal).catch((err: unknown) => {
      if (!stop.signal.aborted) this.#init.log.error('certificate renewal stopped', { err })
    })
  }

  /** Stops the loop and waits for an attempt under way to end. */
  async stop(): Promise<void> {
    this.#stop?.abort()
    this.#stop = undefined
    await this.#running
  }

  /** The latest state (as also written to `identity/renewal.json`). */
  state(): RenewalState {
    return { ...this.#state }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const cert = this.#init.mesh.identity().cert
      const now = this.#now()
      let delay: number
      if (!needsRenewal(cert, now)) {
        const due = (cert.nbf + ((cert.exp - cert.nbf) * 2) / 3) * 1000
        delay = Math.min(this.#checkMs, Math.max(0, due - now) + 20)
        this.#state.certExpiresAt = cert.exp * 1000
      } else {
        delay = await this.#attempt(signal)
      }
      this.#state.nextAttemptAt = this.#now() + delay
      await this.#save()
      await sleep(delay, undefined, { signal, ref: false }).catch(() => undefined)
    }
  }

  /** One attempt; returns how long to wait before the next check. */
  async #attempt(signal: AbortSignal): Promise<number> {
    const { mesh, log } = this.#init
    const before = mesh.identity().cert
    this.#state.lastAttemptAt = this.#now()
    let r: RenewalAttempt
    try {
      r = await requestRenewal({ mesh, identity: () => mesh.identity(), now: this.#now, signal })
    } catch (err) {
      if (signal.aborted) return 0
      r = { ok: false, reason: (err as Error).message, terminal: false, tried: [] }
    }
    if (r.ok) {
      try {
        await writeFileAtomic(identityPaths(this.#init.home).nodeCert, r.certificate, {
          mode: 0o644,
          signal,
        })
        await mesh.reloadIdentity()
      } catch (err) {
        if (signal.aborted) return 0
        log.error('cannot store the renewed certificate', { err })
        return this.#failed({ ...r, ok: false, reason: 'store-failed', terminal: false, tried: [] })
      }
      Object.assign(this.#state, {
        lastSuccessAt: this.#now(),
        failures: 0,
        lastError: null,
        terminal: false,
        renewedBy: r.by,
        certExpiresAt: r.cert.exp * 1000,
      })
      log.info('certificate renewed', {
        by: r.by,
        serial: r.cert.serial,
        previousSerial: before.serial,
        expiresAt: new Date(r.cert.exp * 1000).toISOString(),
      })
      // The loop then sleeps until the new certificate is due (a short pause first, so a key
      // holder whose clock is far off cannot make this loop spin).
      return this.#retryMs
    }
    return this.#failed(r)
  }

  #failed(r: Extract<RenewalAttempt, { ok: false }>): number {
    const failures = this.#state.failures + 1
    const backoff = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** Math.min(failures - 1, 20))
    const delay = r.terminal
      ? this.#checkMs
      : Math.round(backoff * (0.75 + 0.5 * (this.#init.random ?? Math.random)()))
    const expiresAt = this.#init.mesh.identity().cert.exp * 1000
    Object.assign(this.#state, {
      failures,
      lastError: r.reason,
      terminal: r.terminal,
      certExpiresAt: expiresAt,
    })
    const fields = {
      reason: r.reason,
      failures,
      retryInMs: delay,
      expiresAt: new Date(expiresAt).toISOString(),
      tried: r.tried,
    }
    if (r.terminal) {
      this.#init.log.error('certificate renewal refused; this node needs a new invitation', fields)
    } else this.#init.log.warn('certificate renewal failed; will retry', fields)
    return delay
  }

  /**
   * Not cut short by a stop: the file must show the attempt the log just reported (a small
   * write, which `stop` waits for).
   */
  async #save(): Promise<void> {
    await writeRenewalState(this.#init.home, this.#state).catch((err: unknown) => {
      this.#init.log.warn('cannot record the renewal state', { err })
    })
  }
}
