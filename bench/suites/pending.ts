/**
 * Benchmarks that later issues ask for. They are listed (`npm run bench -- --list`) and named in
 * RESULTS.md as not yet measured; no figures are made up for them. Each becomes a module beside
 * this one with a `run(ctx)` when its issue lands.
 */
import type { Suite } from './types.ts'

export const farmAnchorsSuite: Suite = {
  id: 'farm-anchors',
  title: 'Distributed builds against sccache-dist (distcc and icecream: see the distributed suite)',
  issue: 5,
  pending: 'sccache-dist is not built by the benchmark yet',
}
