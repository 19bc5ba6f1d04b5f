/**
 * The revocation list on disk (`$MESHCC_HOME/org/crl.bin`) and the hook that hands new lists to
 * the running mesh node.
 *
 * `meshcc org revoke` only writes the file. The daemon calls `watchCrlFile` once at start; when
 * the file changes (the CLI revoked someone) it receives the verified, newer list and gossips it
 * on the CRL topic and cuts the revoked peers off. Lists received from the mesh go the other
 * way, through `saveCrl`, which keeps the file monotonic.
 */
import { watch } from 'node:fs'
import { dirname } from 'node:path'
import { type RevocationList, verifyCrl } from './crl.ts'
import { readIfExists, writeFileAtomic } from './files.ts'
import type { IdentityPaths } from './paths.ts'
import type { TrustedOrgKey } from './types.ts'

/** Loads the stored list if it is present, well-formed and signed by a trusted key. */
export async function loadCrl(
  paths: IdentityPaths,
  trustedOrgKeys: readonly TrustedOrgKey[],
): Promise<RevocationList | undefined> {
  const bytes = await readIfExists(paths.crl)
  if (bytes === undefined) return undefined
  const result = verifyCrl(bytes, trustedOrgKeys, 0)
  return result.ok ? result.crl : undefined
}

/**
 * Stores `crl` (already verified) unless the stored list is at least as new. Returns whether it
 * was written.
 */
export async function saveCrl(
  paths: IdentityPaths,
  crl: RevocationList,
  trustedOrgKeys: readonly TrustedOrgKey[],
  { signal }: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const current = await loadCrl(paths, trustedOrgKeys)
  if (current !== undefined && current.seq >= crl.seq) return false
  await writeFileAtomic(paths.crl, crl.bytes, {
    mode: 0o644,
    ...(signal === undefined ? {} : { signal }),
  })
  return true
}

export interface WatchCrlOptions {
  /**
   * Sequence number the caller already holds (lists at or below it are ignored). Pass a function
   * when the node also saves lists it received from the mesh, so those are not handed back.
   */
  currentSeq?: number | (() => number)
  signal?: AbortSignal
  /** Poll interval in ms, a backstop for file systems where fs.watch misses events. */
  pollMs?: number
}

/**
 * Calls `onCrl` with every newer, verified list written to `crl.bin` (by `meshcc org revoke` or
 * another process) until `signal` aborts. **Hook for the mesh node**: it should gossip
 * `crl.bytes` and disconnect peers the list revokes. Trusted keys are read through a function
 * so key rotation is picked up.
 */
export function watchCrlFile(
  paths: IdentityPaths,
  trustedOrgKeys: () => readonly TrustedOrgKey[],
  onCrl: (crl: RevocationList) => void | Promise<void>,
  { currentSeq = 0, signal, pollMs = 5000 }: WatchCrlOptions = {},
): void {
  let seen = 0
  const held = (): number =>
    Math.max(seen, typeof currentSeq === 'function' ? currentSeq() : currentSeq)
  let running = false
  let again = false
  const check = async (): Promise<void> => {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      do {
        again = false
        const bytes = await readIfExists(paths.crl).catch(() => undefined)
        if (bytes === undefined || signal?.aborted) continue
        const result = verifyCrl(bytes, trustedOrgKeys(), held())
        if (result.ok) {
          seen = result.crl.seq
          await onCrl(result.crl)
        }
      } while (again && !signal?.aborted)
    } finally {
      running = false
    }
  }
  const trigger = (): void => {
    check().catch(() => undefined)
  }
  const timer = setInterval(trigger, pollMs)
  timer.unref()
  let watcher: ReturnType<typeof watch> | undefined
  try {
    // Watch the directory: the file is replaced by rename, which a file watch would lose.
    watcher = watch(dirname(paths.crl), { persistent: false }, trigger)
    watcher.on('error', () => undefined)
  } catch {
    // no org directory yet (or no inotify): the poll covers it
  }
  signal?.addEventListener(
    'abort',
    () => {
      clearInterval(timer)
      watcher?.close()
    },
    { once: true },
  )
  trigger()
}
