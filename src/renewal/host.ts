/**
 * Renewal as the daemon's mesh host runs it: its timings (from options or the environment) and
 * one call at each mesh start. A node holding the organisation key serves
 * `/meshcc/renew/1.0.0` to admitted members; any other member runs a {@link CertificateRenewer}
 * for its own certificate. Stop the returned handle with the mesh.
 *
 * @example
 * ```ts
 * const timings = renewalTimings({ env: process.env })  // MESHCC_CERT_TTL, MESHCC_RENEW_CHECK
 * const renewal = await startRenewal({ mesh, home, org: admin ? org : undefined, log, ...timings })
 * // at mesh stop:
 * await renewal.stop()
 * ```
 */
import type { Logger } from '../daemon/logger.ts'
import { ConfigError } from '../errors.ts'
import { MAX_CERT_TTL_SECONDS } from '../identity/certificate.ts'
import { loadCrl } from '../identity/crl-store.ts'
import { parseDuration } from '../identity/duration.ts'
import { identityPaths } from '../identity/paths.ts'
import type { Org } from '../identity/types.ts'
import { requireMember } from '../mesh/require-member.ts'
import type { HomeMesh } from '../mesh/start-from-home.ts'
import { CertificateRenewer } from './renewer.ts'
import { renewalHandler } from './serve.ts'
import { RENEW_PROTOCOL } from './wire.ts'

export interface RenewalTimings {
  /** Lifetime of the certificates a key holder issues (undefined: the 14-day default). */
  certTtlSeconds: number | undefined
  /** Longest time between two checks of the own certificate. */
  renewCheckMs: number
}

/**
 * The certificate lifetime and renewal check interval, from the options or the environment
 * (`MESHCC_CERT_TTL`, `MESHCC_RENEW_CHECK`: `90s`, `15m`, `6h`, `14d`, or seconds).
 */
export function renewalTimings(init: {
  certTtlSeconds?: number | undefined
  renewCheckMs?: number | undefined
  env?: NodeJS.ProcessEnv | undefined
}): RenewalTimings {
  const env = init.env ?? process.env
  const read = (name: string): number | undefined => {
    const text = env[name]
    if (text === undefined || text === '') return undefined
    const seconds = parseDuration(text)
    if (seconds === undefined) {
      throw new ConfigError(`${name}=${JSON.stringify(text)} is not a duration`, {
        hint: 'use seconds or a duration such as 90s, 15m, 6h, 14d',
      })
    }
    return seconds
  }
  const ttl = init.certTtlSeconds ?? read('MESHCC_CERT_TTL')
  if (ttl !== undefined && ttl > MAX_CERT_TTL_SECONDS) {
    throw new ConfigError(`MESHCC_CERT_TTL: certificates last at most ${MAX_CERT_TTL_SECONDS} s`)
  }
  const check = init.renewCheckMs ?? (read('MESHCC_RENEW_CHECK') ?? 6 * 3600) * 1000
  return { certTtlSeconds: ttl, renewCheckMs: check }
}

export interface StartRenewalInit extends RenewalTimings {
  mesh: HomeMesh
  home: string
  /** The organisation key, when this node holds the key of the organisation it belongs to. */
  org: Org | undefined
  log: Logger
  /** First retry of a failed renewal (members only). */
  retryMs?: number | undefined
}

export async function startRenewal(init: StartRenewalInit): Promise<{ stop(): Promise<void> }> {
  const { mesh, org, log } = init
  if (org !== undefined) {
    const ids = identityPaths(init.home)
    const iso = (unix: number | undefined) =>
      unix === undefined ? undefined : new Date(unix * 1000).toISOString()
    await mesh.node.handle(
      RENEW_PROTOCOL,
      requireMember(
        mesh.admission,
        renewalHandler({
          org,
          crl: () => loadCrl(ids, [org]),
          ...(init.certTtlSeconds === undefined ? {} : { certTtlSeconds: init.certTtlSeconds }),
          onResult: (peer, r) =>
            r.ok
              ? log.info('renewed a member certificate', {
                  peer,
                  name: r.name,
                  expiresAt: iso(r.expiresAt),
                })
              : log.warn('refused a certificate renewal', { peer, reason: r.reason }),
        }),
      ),
      { maxInboundStreams: 2, maxOutboundStreams: 1 },
    )
    return { stop: async () => {} } // the handler goes with the node
  }
  const renewer = new CertificateRenewer({
    mesh,
    home: init.home,
    log: log.child({ component: 'renewal' }),
    checkMs: init.renewCheckMs,
    ...(init.retryMs === undefined ? {} : { retryMs: init.retryMs }),
  })
  renewer.start()
  return { stop: () => renewer.stop() }
}
