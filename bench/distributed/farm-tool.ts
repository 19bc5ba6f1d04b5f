/**
 * One distributed-compilation tool (distcc, icecream, sccache-dist, meshcc) running on the
 * benchmark's namespaces: how the client calls it, and what the figures need to know from it.
 */
import { readFile } from 'node:fs/promises'

export type FarmToolName = 'distcc' | 'icecc' | 'meshcc' | 'sccache-dist'

export interface FarmTool {
  readonly name: FarmToolName
  /** Words put before the compiler on the client: `['distcc']`, `['icecc']`, `['…/bin/meshcc']`. */
  readonly prefix: readonly string[]
  /** Client environment (run inside the client namespace). */
  readonly env: NodeJS.ProcessEnv
  /** Remote slots the builders offer in total (the builds' -j). */
  readonly slots: number
  /**
   * CPU seconds spent so far on the client machine by the tool's own long-running processes
   * (icecream's local iceccd, meshcc's daemon and the compilers it ran), which are not children
   * of the measured command. 0 for distcc, which has no client daemon.
   */
  clientDaemonCpu(): Promise<number>
  /** Jobs compiled on a builder so far (from the builders' own logs or counters). */
  remoteJobs(): Promise<number>
  /** The tool's own counters, for the notes (meshcc: its stats); undefined when it has none. */
  counters?(): Promise<Record<string, unknown>>
  /** One line on the versions and set-up, for the report. */
  describe(): string
  stop(): Promise<void>
}

/** Counts lines of a log file matching `re`. */
export async function countLines(file: string, re: RegExp): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '')
  let n = 0
  for (const line of text.split('\n')) if (re.test(line)) n++
  return n
}

/** CPU seconds (user + sys, self and reaped children) of a live process; 0 when it is gone. */
export async function processCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (!stat) return 0
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map(Number)
  return ((ut ?? 0) + (st ?? 0) + (cut ?? 0) + (cst ?? 0)) / 100
}

/** Polls `check` every 100 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const { setTimeout: sleep } = await import('node:timers/promises')
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    signal?.throwIfAborted()
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
