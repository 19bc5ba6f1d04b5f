#!/usr/bin/env node
// Entry point of `npm run bench`. The benchmark modules are TypeScript run by Node 24's type
// stripping; when this file is started by an older `node` (the machines carry Node 20), it
// re-runs itself with the project's own Node 24 instead of failing on the first import.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  const node = join(here, '..', 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(node)) {
    console.error(
      `bench: Node ${process.versions.node} is too old and ${node} is missing: run "npm ci"`,
    )
    process.exit(1)
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  // Pass interrupts on, so that the real run stops its builds and daemons and cleans up.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 130 : 1)))
} else {
  const { main } = await import('./main.ts')
  process.exitCode = await main(process.argv.slice(2))
}
