/** Every benchmark suite, in the order a full run measures them. */
import { cacheHitSuite } from './cache-hit.ts'
import { missUnitSuite } from './miss-unit.ts'
import { farmAnchorsSuite, meshScaleSuite } from './pending.ts'
import { projectBuildSuite } from './project-build.ts'
import type { Suite } from './types.ts'

export const suites: readonly Suite[] = [
  cacheHitSuite,
  missUnitSuite,
  projectBuildSuite,
  meshScaleSuite,
  farmAnchorsSuite,
]
