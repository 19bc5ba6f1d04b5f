/**
 * Whole-build wall time of the real projects with each tool, run from the client namespace:
 * the plain compiler on the client (`make -j<local cores>`) for reference, then every tool with
 * `-j` sized to the builders' remote slots. Every build starts from a clean tree at the same
 * path, so objects can be compared byte for byte with the local build's.
 *
 * - C: Debian's zstd (`make lib-release zstd-release`, the suite `project-build` workload);
 * - C++: Debian's yaml-cpp (CMake, library only; `CMAKE_CXX_COMPILER_LAUNCHER` = the tool).
 *
 * Client CPU = user + sys of the whole make tree (GNU time) + what the tool's client-side
 * daemon spent meanwhile. Remote share = jobs the builders' logs counted ÷ objects built.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { rotate } from '../lib/numbers.ts'
import { run, timed } from '../lib/proc.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import { zstdMakeVars } from '../lib/zstd-workload.ts'
import type { FarmTool } from './farm-tool.ts'
import type { Farm } from './netns.ts'
import { yamlCmakeOptions } from './yaml-workload.ts'

export interface BuildRow {
  project: 'zstd' | 'yaml-cpp'
  tool: string
  jobs: number
  wall: number
  clientCpu: number
  objects: number
  remoteJobs: number
  /** Objects that differ from (or are missing against) the local build's. */
  diffs: string[]
  /** Changes of the tool's own counters over the build (meshcc's stats), non-zero ones. */
  counterDelta: Record<string, number>
  /** Set when the build failed: its first error line (the other tools' builds still run). */
  error?: string
}

function delta(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined) {
  const out: Record<string, number> = {}
  const walk = (x: Record<string, unknown>, y: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(y)) {
      const u = x[k]
      if (typeof v === 'number' && !/bytes|entries|time_saved/.test(k)) {
        const d = v - (typeof u === 'number' ? u : 0)
        if (d !== 0) out[prefix + k] = d
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        walk(
          (u && typeof u === 'object' ? u : {}) as Record<string, unknown>,
          v as Record<string, unknown>,
          `${prefix}${k}.`,
        )
      }
    }
  }
  if (b) walk(a ?? {}, b, '')
  return out
}

export interface BuildOptions {
  farm: Farm
  tools: readonly FarmTool[]
  zstdTree: string
  yamlTree: string
  scratch: string
  localJobs: number
  reps: number
  quick: boolean
  signal?: AbortSignal
  log(s: string): void
}

/** Object files under `dir`, path → SHA-256 (zstd's `conf_<md5 of $(CC)>` names normalised). */
async function objects(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile() && e.name.endsWith('.o')) {
        const key = relative(dir, p).replace(/conf_[0-9a-f]+/, 'conf_*')
        out.set(
          key,
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        )
      }
    }
  }
  await walk(dir)
  return out
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const d: string[] = []
  for (const [k, v] of a) if (b.get(k) !== v) d.push(`${b.has(k) ? 'differs' : 'missing'} ${k}`)
  for (const k of b.keys()) if (!a.has(k)) d.push(`extra ${k}`)
  return d
}

export async function measureBuilds(o: BuildOptions): Promise<BuildRow[]> {
  const sig = o.signal ? { signal: o.signal } : {}
  const ns = o.farm.client.exec
  const rows: BuildRow[] = []
  const reference = new Map<string, Map<string, string>>()
  const entrants: (FarmTool | undefined)[] = [undefined, ...o.tools]
  const yamlBuild = join(o.scratch, 'yaml-build')

  async function one(project: BuildRow['project'], tool: FarmTool | undefined): Promise<void> {
    const env = tool?.env ?? cleanEnv()
    const jobs = tool ? tool.slots : o.localJobs
    const label = tool?.name ?? 'local'
    let cmd: string[]
    let cwd: string
    let outDir: string
    if (project === 'zstd') {
      cwd = o.zstdTree
      outDir = o.zstdTree
      await run('make', ['clean'], { cwd, env, ...sig })
      const cc = [...(tool?.prefix ?? []), 'gcc'].join(' ')
      const targets = o.quick ? ['zstd-release'] : ['lib-release', 'zstd-release']
      cmd = ['make', `-j${jobs}`, ...zstdMakeVars, `CC=${cc}`, ...targets]
    } else {
      cwd = yamlBuild
      outDir = yamlBuild
      await rm(yamlBuild, { recursive: true, force: true })
      const launcher = tool ? [`-DCMAKE_CXX_COMPILER_LAUNCHER=${tool.prefix.join(';')}`] : []
      await run(
        ns[0]!,
        [
          ...ns.slice(1),
          'cmake',
          '-S',
          o.yamlTree,
          '-B',
          yamlBuild,
          ...yamlCmakeOptions,
          ...launcher,
        ],
        {
          env,
          ...sig,
        },
      )
      cmd = ['make', `-j${jobs}`]
    }
    // Counters first: reading meshcc's asks its client daemon, which must not be billed.
    const rj0 = tool ? await tool.remoteJobs() : 0
    const c0 = await tool?.counters?.()
    const cpu0 = tool ? await tool.clientDaemonCpu() : 0
    let t: Awaited<ReturnType<typeof timed>>
    try {
      t = await timed(ns[0]!, [...ns.slice(1), ...cmd], o.scratch, { cwd, env, ...sig })
    } catch (err) {
      // One tool's failed build is a result (reported as such), not the end of the suite.
      if (o.signal?.aborted || !tool) throw err
      const text = (err as Error).message
      const error =
        text.split('\n').find((l) => /error:/.test(l)) ?? text.split('\n')[0] ?? 'failed'
      built.push({ objs: new Map() })
      rows.push({
        project,
        tool: label,
        jobs,
        wall: Number.NaN,
        clientCpu: Number.NaN,
        objects: 0,
        remoteJobs: (await tool.remoteJobs()) - rj0,
        diffs: [],
        counterDelta: {},
        error: error.trim().slice(0, 300),
      })
      o.log(`build ${project} with ${label} -j${jobs} FAILED: ${error.trim()}`)
      return
    }
    const daemon = tool ? (await tool.clientDaemonCpu()) - cpu0 : 0
    const remote = tool ? (await tool.remoteJobs()) - rj0 : 0
    const counterDelta = delta(c0, await tool?.counters?.())
    const objs = await objects(outDir)
    if (!tool) reference.set(project, objs)
    built.push({ objs })
    rows.push({
      project,
      tool: label,
      jobs,
      wall: t.wall,
      clientCpu: t.user + t.sys + daemon,
      objects: objs.size,
      remoteJobs: remote,
      diffs: [],
      counterDelta,
    })
    o.log(
      `build ${project} with ${label} -j${jobs}: ${t.wall.toFixed(1)} s, ${objs.size} objects, ${remote} remote`,
    )
  }

  const built: { objs: Map<string, string> }[] = []
  for (const project of ['zstd', 'yaml-cpp'] as const) {
    for (let rep = 0; rep < o.reps; rep++) {
      // Local gcc takes its turn in the rotation too; its objects are the reference.
      for (const tool of rotate(entrants, rep + (project === 'zstd' ? 0 : 1)))
        await one(project, tool)
    }
  }
  for (const [i, r] of rows.entries()) {
    const ref = reference.get(r.project)
    if (r.error) r.diffs = [`build failed: ${r.error}`]
    else if (r.tool !== 'local') r.diffs = ref ? diff(ref, built[i]!.objs) : ['no local build']
  }
  return rows
}
