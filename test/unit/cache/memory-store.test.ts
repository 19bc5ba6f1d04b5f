import { createMemoryCacheStore } from '../../../src/cache/memory-store.ts'
import { cacheStoreCompliance } from './store-compliance.ts'

cacheStoreCompliance('memory', {
  async make(maxBytes) {
    const store = createMemoryCacheStore({ maxBytes })
    await store.start()
    return { store, settle: async () => {}, cleanup: async () => {} }
  },
})
