/**
 * The mesh-scale benchmark (issue 4) as a suite of `npm run bench`: N meshcc mesh nodes in one
 * process on the libp2p memory transport (bench/mesh/mesh-scale.ts, run as a child so its
 * memory figure is its own), reporting time until every node holds every other node's advert,
 * gossip and wire bytes per node per second, resident memory and CPU per node. Sizes 30, 50 and
 * 100 (about 3 min in all when the process gets a core); `--quick` runs 20 nodes only.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Suite, SuiteResult, Table } from '../suites/types.ts'

const run = promisify(execFile)

interface ScaleResult {
  nodes: number
  convergedS: number | null
  advertsHeldAtEnd: number
  advertsWanted: number
  connections: number
  gossipBytesPerNodePerS: number
  wireBytesPerNodePerS: number
  rssPerNodeMiB: number
  cpuPerNodePctOfCore: number
  advertPeriodMsAtEnd: number
  certMemo: string
  loadavgStart: number[]
}

/** Per size: the steady-state window and how long to wait for convergence. */
const SIZES: ReadonlyArray<{ nodes: number; measureS: number; timeoutS: number }> = [
  { nodes: 30, measureS: 15, timeoutS: 60 },
  { nodes: 50, measureS: 15, timeoutS: 90 },
  { nodes: 100, measureS: 15, timeoutS: 150 },
]

export const meshScaleSuite: Suite = {
  id: 'mesh-scale',
  title: 'Mesh of N nodes in one process (memory transport): convergence, gossip, memory',
  issue: 4,
  async run(ctx): Promise<SuiteResult> {
    const sizes = ctx.quick ? [{ nodes: 20, measureS: 10, timeoutS: 60 }] : SIZES
    const rows: string[][] = []
    const notes: string[] = []
    for (const { nodes, measureS, timeoutS } of sizes) {
      ctx.log(`mesh-scale: ${nodes} nodes`)
      const args = [
        '--expose-gc',
        join(ctx.root, 'bench', 'mesh', 'mesh-scale.ts'),
        ...['--nodes', String(nodes), '--measure-s', String(measureS)],
        ...['--timeout-s', String(timeoutS), '--json'],
      ]
      let stdout: string
      try {
        ;({ stdout } = await run(process.execPath, args, {
          signal: ctx.signal,
          maxBuffer: 16 * 2 ** 20,
          timeout: (timeoutS + measureS + 150) * 1000,
        }))
      } catch (err) {
        // Exit status 1 means "did not converge": the partial figures are still on stdout.
        stdout = (err as { stdout?: string }).stdout ?? ''
        if (!stdout.trim()) {
          notes.push(`${nodes} nodes: run failed: ${(err as Error).message.split('\n')[0]}`)
          continue
        }
      }
      const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ScaleResult
      rows.push([
        String(r.nodes),
        r.convergedS === null
          ? `no (${r.advertsHeldAtEnd}/${r.advertsWanted} adverts after ${timeoutS} s)`
          : `${r.convergedS} s`,
        String(r.connections),
        String(r.gossipBytesPerNodePerS),
        String(r.wireBytesPerNodePerS),
        String(r.rssPerNodeMiB),
        String(r.cpuPerNodePctOfCore),
        `${(r.advertPeriodMsAtEnd / 1000).toFixed(1)} s`,
        (r.loadavgStart ?? []).slice(0, 1).join(''),
      ])
    }
    const table: Table = {
      title: 'Mesh scale (one process, memory transport)',
      columns: [
        'nodes',
        'all adverts seen after',
        'connections',
        'gossip B/node/s',
        'wire B/node/s',
        'RSS MiB/node',
        'CPU % of a core/node',
        'advert period',
        'load avg at start',
      ],
      rows,
    }
    notes.push(
      "All nodes share this machine's cores and one event loop; the simulated nodes share one memo of verified certificates (see bench/mesh/README.md).",
    )
    return { id: this.id, title: this.title, tables: [table], goals: [], checks: [], notes }
  },
}
