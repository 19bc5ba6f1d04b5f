/**
 * What one cacheable request carries through the pipeline: the request, its parsed invocation,
 * its settings, the compiler identity and the key-path normalizer, plus the shared services.
 */
import type { CacheStore } from '../cache/types.ts'
import type { CacheableInvocation, UncacheableReason } from '../compilers/types.ts'
import type { RequestSettings } from '../config/request-settings.ts'
import type { Logger } from '../daemon/logger.ts'
import type { StatsRecorder } from '../stats/recorder.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import type { LeadingIncludes } from './leading-includes.ts'
import type { ManifestCache } from './manifest.ts'
import type { MissCompiler } from './miss-compiler.ts'
import type { PchDirCache } from './pch-dir-cache.ts'
import type { PendingStores } from './pending-stores.ts'
import type { KeyPaths } from './path-normalize.ts'
import type { SideInputs } from './side-inputs.ts'
import type { ClientRunner, CompileRequest } from './types.ts'

export interface PipelineServices {
  store: CacheStore
  stats: StatsRecorder
  log: Logger
  files: FileHashCache
  manifests: ManifestCache
  /** Leading includes of sources, by content hash (see leading-includes.ts). */
  leading: Map<string, LeadingIncludes>
  /** PCH names per directory (see pch-dir-cache.ts). */
  pchDirs: PchDirCache
  /** Directory for the pipeline's temporary dependency files. */
  tempDir: () => string
  /** Cache writes still running after their reply (pending-stores.ts). */
  pendingStores: PendingStores
  /** Runs a miss's compile, here or on the mesh (default: here). */
  compileMiss?: MissCompiler | undefined
}

export interface RequestContext {
  request: CompileRequest
  inv: CacheableInvocation
  settings: RequestSettings
  identity: string
  paths: KeyPaths
  /** Whether the client wants colored diagnostics. */
  wantColor: boolean
  /** Extra input files and precompiled headers in reach, hashed (set before any key). */
  side: SideInputs
  services: PipelineServices
  signal: AbortSignal
  /** Runs a command through the waiting native client (cheaper than forking the daemon). */
  runOnClient?: ClientRunner | undefined
}

/** Stable names for outcomes the pipeline reports itself (beside the parser's reasons). */
export const PIPELINE_REASONS = {
  timeMacros: 'time-macros',
  sourceMissing: 'source-missing',
  disabled: 'disabled',
  recordedColor: 'recorded-command-line-color',
  inputTooNew: 'input-too-new',
  incbin: 'incbin',
} as const satisfies Record<string, UncacheableReason>
