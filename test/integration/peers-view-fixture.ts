/**
 * `meshcc peers` with a fake snapshot source, for the tmux test: `node peers-view-fixture.ts
 * <snapshot.json> [peers flags…]`. Every refresh re-reads the file, so the test changes the
 * members by rewriting it; a file that does not parse fails that refresh, as a daemon hiccup would.
 */
import { readFile } from 'node:fs/promises'
import { runPeersCommand } from '../../src/cli/peers-command.ts'
import { parsePeersSnapshot } from '../../src/monitor/daemon-source.ts'

const [file, ...argv] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: peers-view-fixture.ts <snapshot.json> [flags]')
const source = {
  snapshot: async (signal: AbortSignal) =>
    parsePeersSnapshot(JSON.parse(await readFile(file, { encoding: 'utf8', signal }))),
}
process.exitCode = await runPeersCommand(
  argv,
  { stdout: process.stdout, stderr: process.stderr, env: process.env },
  source,
)
