/**
 * The shape every benchmark suite has, so that later suites (issue 4: a 100-node mesh; issue 5:
 * distcc / icecream / sccache farms) slot into the same runner and report.
 */
import type { ToolName, ToolSession } from '../lib/tools/types.ts'

export interface BenchContext {
  /** Repository root. */
  root: string
  /** Scratch directory of this run (emptied at start and end). */
  scratch: string
  /** Unpacked Debian zstd source tree (fresh for this run). */
  zstdTree: string
  quick: boolean
  /** Repetitions of whole builds per tool (`--reps`). */
  reps: number
  /** Parallel jobs of the builds (`make -jN`). */
  jobs: number
  /** Tools the suites compare (meshcc is left out when it is not built or not working). */
  tools: readonly ToolName[]
  signal: AbortSignal
  log(line: string): void
  /** Opens a tool session in its own state directory; the runner closes it if the suite
   * does not (on errors and interrupts). */
  openTool(
    tool: ToolName,
    opts?: { label?: string; settings?: Record<string, string> },
  ): Promise<ToolSession>
}

export interface Table {
  title: string
  columns: string[]
  rows: string[][]
}

/** A figure with a target: passes when `value <= goal`. */
export interface Goal {
  metric: string
  value: number
  goal: number
  /** The same figure for an anchor, for comparison (e.g. "ccache 1.08"). */
  anchor?: string
}

/** A correctness condition the figures depend on (every hit a hit, outputs identical…). */
export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface SuiteResult {
  id: string
  title: string
  tables: Table[]
  goals: Goal[]
  checks: Check[]
  notes: string[]
}

export interface Suite {
  id: string
  title: string
  /** The issue that asks for it. */
  issue: number
  /** Why it does not run yet; absent when it runs. */
  pending?: string
  run?(ctx: BenchContext): Promise<SuiteResult>
}
