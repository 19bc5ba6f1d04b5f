/**
 * The ways the benchmark runs a compiler: plain, through ccache, sccache or meshcc. Each session
 * owns its own state directory (CCACHE_DIR / SCCACHE_DIR / MESHCC_HOME), so runs never share a
 * cache unless the suite means them to, and `close()` leaves nothing running or on disk.
 */

export type ToolName = 'gcc' | 'ccache' | 'sccache' | 'meshcc'

/** Cache counters normalised across ccache and meshcc (raw values kept for the report). */
export interface Counters {
  hits: number
  misses: number
  uncacheable: number
  /** meshcc: times it stood aside and ran the compiler itself (must stay 0 in a fair run). */
  fallbacks: number
  raw: Record<string, unknown>
}

export interface ToolSession {
  readonly tool: ToolName
  /** Name in the tables, e.g. "ccache" or "ccache (inode_cache)". */
  readonly label: string
  /** Environment for every command run under this tool. */
  readonly env: NodeJS.ProcessEnv
  /** Words put before the compiler: `[]`, `['ccache']`, `['/…/bin/meshcc']`. */
  readonly prefix: readonly string[]
  /**
   * CPU seconds (user + sys) spent so far by this tool's processes that are not children of
   * the measured command: meshcc's detached daemon and the compilers it ran. 0 for the others.
   */
  outsideCpu(): Promise<number>
  /** Cache counters, or null for the plain compiler. */
  counters(): Promise<Counters | null>
  /** Stops whatever the tool left running and deletes its state. */
  close(): Promise<void>
}

/** Environment without anything that could change a tool's or a build's behaviour. */
export function cleanEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  const drop =
    /^(CCACHE_|MESHCC_|_MESHCC|DISTCC_|ICECC|SCCACHE_)|^(CC|CXX|CPP|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS|MAKEFLAGS|MFLAGS|MAKELEVEL|MAKEOVERRIDES|GCC_COLORS|SOURCE_DATE_EPOCH)$/
  for (const [k, v] of Object.entries(base)) if (!drop.test(k) && v !== undefined) env[k] = v
  env['LC_ALL'] = 'C'
  return env
}
