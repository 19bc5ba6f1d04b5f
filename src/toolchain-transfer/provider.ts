/**
 * Announces the toolchains this node holds complete, so members that lack one can find it:
 *
 * - as DHT provider records on the toolchain's CID (`contentRouting.provide`, always with a
 *   timeout), re-announced every `reprovideMs` and soon after members join (a node that started
 *   alone had no one to store its records with); `withdraw` cancels the DHT's own reprovide;
 * - as the fast path, in the `toolchains` field of this node's gossip advert: {@link held} gives
 *   the ids, most recently used first, capped so the advert stays within its size limit.
 *
 * @example
 * ```ts
 * const provider = new ToolchainProvider({ node: mesh.node, store })
 * await provider.start()
 * advertSource = () => ({ ...fields, toolchains: provider.held() })
 * mesh.addEventListener('member:admitted', () => provider.reprovideSoon())
 * ```
 */
import type { MeshNode } from '../mesh/create-node.ts'
import type { ToolchainStore } from '../toolchain/store.ts'
import { toolchainCid } from './cid.ts'

export interface ProviderInit {
  node: Pick<MeshNode, 'contentRouting'> & {
    services: { dht: Pick<MeshNode['services']['dht'], 'cancelReprovide'> }
  }
  store: Pick<ToolchainStore, 'list'>
  /** Deadline of one DHT provide. Default 30 s. */
  provideTimeoutMs?: number
  /** Re-announce everything this often. Default 30 min. */
  reprovideMs?: number
  /** Ids listed in the advert at most (64 hex ids fill 4 KiB adverts). Default 32. */
  maxAdvertised?: number
  /** The advert's content changed (call `mesh.changed()`). */
  onChange?: () => void
  onError?: (id: string, err: unknown) => void
}

export class ToolchainProvider {
  readonly #init: ProviderInit
  /** Held ids, most recently used last. */
  readonly #held = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  #stopped = new AbortController()

  constructor(init: ProviderInit) {
    this.#init = init
  }

  /** Announces every complete toolchain in the store, then keeps re-announcing them. */
  async start({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    await this.rescan()
    this.#timer = setInterval(
      () => void this.rescan().then(() => this.reprovideAll()),
      this.#init.reprovideMs ?? 1_800_000,
    )
    this.#timer.unref()
    await this.reprovideAll(signal ? { signal } : {})
  }

  /**
   * Re-reads which toolchains the store holds complete (some may have been added or removed
   * by another process, e.g. `meshcc toolchain add`); returns true when the list changed.
   */
  async rescan(): Promise<boolean> {
    const complete = new Set<string>()
    try {
      for (const t of await this.#init.store.list()) if (t.complete) complete.add(t.id)
    } catch (err) {
      this.#init.onError?.('store', err)
      return false
    }
    let changed = false
    for (const id of this.#held)
      if (!complete.has(id)) {
        // Removed behind our back: stop the DHT's own re-providing too.
        await this.withdraw(id)
        changed = true
      }
    // New ones go to the back of the use order (least recently used).
    const fresh = [...complete].filter((id) => !this.#held.has(id))
    if (fresh.length > 0) {
      const old = [...this.#held]
      this.#held.clear()
      for (const id of [...fresh, ...old]) this.#held.add(id)
      changed = true
    }
    if (changed) this.#init.onChange?.()
    return changed
  }

  stop(): void {
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    this.#stopped.abort()
  }

  /** Ids for the advert's `toolchains` field, most recently used first. */
  held(): string[] {
    return [...this.#held].reverse().slice(0, this.#init.maxAdvertised ?? 32)
  }

  has(id: string): boolean {
    return this.#held.has(id)
  }

  /** A job used `id`: keep it at the front of the advert. */
  touch(id: string): void {
    if (!this.#held.has(id)) return
    const first = this.held()[0] === id
    this.#held.delete(id)
    this.#held.add(id)
    if (!first) this.#init.onChange?.()
  }

  /** `id` is now held complete (packaged, imported or fetched): advertise and provide it. */
  async announce(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<boolean> {
    const cid = toolchainCid(id)
    const isNew = !this.#held.has(id)
    this.touch(id)
    this.#held.add(id)
    if (isNew) this.#init.onChange?.()
    return this.#provide(id, cid, signal)
  }

  /** `id` was removed from the store: stop listing and re-providing it. */
  async withdraw(id: string): Promise<void> {
    if (this.#held.delete(id)) this.#init.onChange?.()
    await this.#init.node.services.dht.cancelReprovide(toolchainCid(id)).catch((err: unknown) => {
      this.#init.onError?.(id, err)
    })
  }

  /** Re-announce soon (coalesced): call when members join. */
  reprovideSoon(delayMs = 2_000): void {
    if (this.#soon !== undefined || this.#stopped.signal.aborted) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      void this.reprovideAll()
    }, delayMs)
    this.#soon.unref()
  }

  /** Provides every held id; resolves when all attempts ended. Returns how many succeeded. */
  async reprovideAll({ signal }: { signal?: AbortSignal } = {}): Promise<number> {
    const results = await Promise.all(
      [...this.#held].map((id) => this.#provide(id, toolchainCid(id), signal)),
    )
    return results.filter(Boolean).length
  }

  async #provide(
    id: string,
    cid: ReturnType<typeof toolchainCid>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const timeout = AbortSignal.timeout(this.#init.provideTimeoutMs ?? 30_000)
    const signals = [timeout, this.#stopped.signal, ...(signal ? [signal] : [])]
    try {
      await this.#init.node.contentRouting.provide(cid, { signal: AbortSignal.any(signals) })
      return true
    } catch (err) {
      // No peers yet, or a slow mesh: the local record stands and the next round retries.
      this.#init.onError?.(id, err)
      return false
    }
  }
}
