/** Every benchmark suite, in the order a full run measures them. */
import { cacheHitSuite } from './cache-hit.ts'
import { missUnitSuite } from './miss-unit.ts'
import { distributedSuite } from '../distributed/suite.ts'
import { meshScaleSuite } from '../mesh/suite.ts'
import { schedulingSuite } from '../scheduling/suite.ts'
import { projectBuildSuite } from './project-build.ts'
import type { Suite } from './types.ts'

export const suites: readonly Suite[] = [
  cacheHitSuite,
  missUnitSuite,
  projectBuildSuite,
  meshScaleSuite,
  schedulingSuite,
  distributedSuite,
]
