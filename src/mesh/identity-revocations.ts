/**
 * The node's revocation list over the identity module: holds the latest verified list (loaded
 * from `$MESHCC_HOME/org/crl.bin`), verifies lists offered by the mesh and stores newer ones, and
 * picks up lists `meshcc org revoke` writes. Feeds both {@link identityCredentials} (`crl`) and
 * {@link CrlGossip} (`bytes`, `offer`).
 *
 * @example
 * ```ts
 * const revocations = await IdentityRevocations.load(paths, () => trusted)
 * const credentials = identityCredentials({ identity, trustedOrgKeys, crl: () => revocations.current() })
 * const mesh = await startMesh({ …, credentials, revocations })
 * revocations.watch(() => mesh.revocationsChanged(), { signal })
 * ```
 */
import type { RevocationList } from '../identity/crl.ts'
import { verifyCrl } from '../identity/crl.ts'
import { loadCrl, saveCrl, watchCrlFile } from '../identity/crl-store.ts'
import type { IdentityPaths } from '../identity/paths.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import type { Revocations } from './crl-gossip.ts'

export class IdentityRevocations implements Revocations {
  readonly #paths: IdentityPaths
  readonly #trusted: () => readonly TrustedOrgKey[]
  #crl: RevocationList | undefined

  constructor(
    paths: IdentityPaths,
    trusted: () => readonly TrustedOrgKey[],
    initial?: RevocationList,
  ) {
    this.#paths = paths
    this.#trusted = trusted
    this.#crl = initial
  }

  static async load(
    paths: IdentityPaths,
    trusted: () => readonly TrustedOrgKey[],
  ): Promise<IdentityRevocations> {
    return new IdentityRevocations(paths, trusted, await loadCrl(paths, trusted()))
  }

  current(): RevocationList | undefined {
    return this.#crl
  }

  bytes(): Uint8Array | undefined {
    return this.#crl?.bytes
  }

  async offer(bytes: Uint8Array): Promise<'accepted' | 'stale' | 'invalid'> {
    const r = verifyCrl(bytes, this.#trusted(), this.#crl?.seq ?? 0)
    if (!r.ok) return r.reason === 'stale' ? 'stale' : 'invalid'
    this.#crl = r.crl
    await saveCrl(this.#paths, r.crl, this.#trusted()).catch(() => false)
    return 'accepted'
  }

  /** Calls `onNew` whenever a newer list appears in `crl.bin` (e.g. `meshcc org revoke`). */
  watch(onNew: () => void, { signal }: { signal?: AbortSignal } = {}): void {
    watchCrlFile(
      this.#paths,
      this.#trusted,
      (crl) => {
        if (crl.seq <= (this.#crl?.seq ?? 0)) return
        this.#crl = crl
        onNew()
      },
      { currentSeq: () => this.#crl?.seq ?? 0, ...(signal === undefined ? {} : { signal }) },
    )
  }
}
