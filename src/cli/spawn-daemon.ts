/**
 * Starting the node daemon from the CLI (`meshcc daemon start`, `meshcc join`): Node 24 (this
 * process's own binary, never the machine's `node`) with the daemon's Node flags, detached in its
 * own session so that it outlives the command, with no inherited descriptors.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.ts'

/** The daemon's entry module: `.ts` when run from sources (tests), `.js` from `dist/`. */
export function daemonEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js'
  return fileURLToPath(new URL(`../daemon/main.${ext}`, import.meta.url))
}

/** Spawns a detached daemon for `home`; the caller waits for it to answer. */
export function spawnDetachedDaemon(home: string): void {
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, daemonEntry()], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
    env: { ...process.env, MESHCC_HOME: home },
  })
  child.unref()
}
