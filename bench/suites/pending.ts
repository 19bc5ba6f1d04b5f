/**
 * Benchmarks that later issues ask for. They are listed (`npm run bench -- --list`) and named in
 * RESULTS.md as not yet measured; no figures are made up for them. Each becomes a module beside
 * this one with a `run(ctx)` when its issue lands.
 */
import type { Suite } from './types.ts'

export const meshScaleSuite: Suite = {
  id: 'mesh-100',
  title: '100-node mesh in network namespaces: discovery, placement, build speed-up',
  issue: 4,
  pending: 'needs the mesh (issue 4)',
}

export const farmAnchorsSuite: Suite = {
  id: 'farm-anchors',
  title: 'Distributed builds against distcc, icecream and sccache-dist',
  issue: 5,
  pending: 'needs remote compilation (issue 5)',
}
