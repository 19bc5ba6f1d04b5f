/**
 * What the renewal of this node's certificate last did, in `$MESHCC_HOME/identity/renewal.json`:
 * written by the daemon after every attempt, read by `meshcc doctor` (which must not need the
 * daemon to tell that no key holder has been reachable for days).
 *
 * ```json
 * { "lastAttemptAt": 1764230000000, "lastSuccessAt": null, "failures": 3,
 *   "lastError": "no-admin-reachable", "terminal": false, "renewedBy": null,
 *   "nextAttemptAt": 1764230240000, "certExpiresAt": 1764600000000 }
 * ```
 */
import { join } from 'node:path'
import { readIfExists, writeFileAtomic } from '../identity/files.ts'

export interface RenewalState {
  /** Unix ms of the last attempt to renew over the mesh, null before the first. */
  lastAttemptAt: number | null
  /** Unix ms of the last renewal, null if none yet. */
  lastSuccessAt: number | null
  /** Attempts that failed since the last success. */
  failures: number
  /** Why the last attempt failed (`no-admin-reachable`, `revoked`, …); null after a success. */
  lastError: string | null
  /** True when the key holders refused for good (expired, revoked): join again. */
  terminal: boolean
  /** Peer id of the key holder that renewed it last. */
  renewedBy: string | null
  /** Unix ms when the daemon will try (or check) next. */
  nextAttemptAt: number | null
  /** Expiry of the certificate in force, unix ms. */
  certExpiresAt: number | null
}

export function renewalStatePath(home: string): string {
  return join(home, 'identity', 'renewal.json')
}

export const EMPTY_RENEWAL_STATE: RenewalState = {
  lastAttemptAt: null,
  lastSuccessAt: null,
  failures: 0,
  lastError: null,
  terminal: false,
  renewedBy: null,
  nextAttemptAt: null,
  certExpiresAt: null,
}

export async function writeRenewalState(
  home: string,
  state: RenewalState,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  await writeFileAtomic(renewalStatePath(home), `${JSON.stringify(state)}\n`, {
    mode: 0o644,
    ...(signal === undefined ? {} : { signal }),
  })
}

/** The stored state, or undefined when there is none or it is unreadable. */
export async function readRenewalState(home: string): Promise<RenewalState | undefined> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await readIfExists(renewalStatePath(home))
  } catch {
    return undefined
  }
  if (bytes === undefined) return undefined
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    const num = (k: string): number | null =>
      typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null
    const str = (k: string): string | null => (typeof o[k] === 'string' ? (o[k] as string) : null)
    return {
      lastAttemptAt: num('lastAttemptAt'),
      lastSuccessAt: num('lastSuccessAt'),
      failures: num('failures') ?? 0,
      lastError: str('lastError'),
      terminal: o['terminal'] === true,
      renewedBy: str('renewedBy'),
      nextAttemptAt: num('nextAttemptAt'),
      certExpiresAt: num('certExpiresAt'),
    }
  } catch {
    return undefined
  }
}
