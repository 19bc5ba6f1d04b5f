/**
 * The mesh-scale benchmark (issue 4) as a suite of `npm run bench`: N meshcc mesh nodes in one
 * process on the libp2p memory transport (bench/mesh/mesh-scale.ts, run as a child so its
 * memory figure is its own), reporting time until every node holds every other node's advert,
 * gossip bytes per node per second and resident memory per node. `--quick` runs 20 nodes only.
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
  rssPerNodeMiB: number
  cpuPerNodePctOfCore: number
}

export const meshScaleSuite: Suite = {
  id: 'mesh-scale',
  title: 'Mesh of N nodes in one process (memory transport): convergence, gossip, memory',
  issue: 4,
  async run(ctx): Promise<SuiteResult> {
    const sizes = ctx.quick ? [20] : [20, 50, 100]
    const rows: string[][] = []
    const notes: string[] = []
    for (const nodes of sizes) {
      ctx.log(`mesh-scale: ${nodes} nodes`)
      try {
        const { stdout } = await run(
          process.execPath,
          [
            '--expose-gc',
            join(ctx.root, 'bench', 'mesh', 'mesh-scale.ts'),
            '--nodes',
            String(nodes),
            '--json',
          ],
          { signal: ctx.signal, maxBuffer: 16 * 2 ** 20, timeout: 15 * 60_000 },
        )
        const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ScaleResult
        rows.push([
          String(r.nodes),
          r.convergedS === null
            ? `no (${r.advertsHeldAtEnd}/${r.advertsWanted} adverts)`
            : `${r.convergedS} s`,
          String(r.connections),
          String(r.gossipBytesPerNodePerS),
          String(r.rssPerNodeMiB),
          String(r.cpuPerNodePctOfCore),
        ])
      } catch (err) {
        notes.push(`${nodes} nodes: run failed: ${(err as Error).message.split('\n')[0]}`)
      }
    }
    const table: Table = {
      title: 'Mesh scale (one process, memory transport)',
      columns: [
        'nodes',
        'all adverts seen after',
        'connections',
        'gossip B/node/s',
        'RSS MiB/node',
        'CPU % of a core/node',
      ],
      rows,
    }
    notes.push(
      "All nodes share this machine's 2 cores and one event loop; see bench/mesh/README.md.",
    )
    return { id: this.id, title: this.title, tables: [table], goals: [], checks: [], notes }
  },
}
