/**
 * Where a node keeps its state. Everything lives under one directory, `MESHCC_HOME`
 * (default `~/.meshcc`), so several independent nodes can run on one machine for tests.
 *
 * The native client (`src/wrapper/native/meshcc.c`) computes the same paths; keep them in step.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export interface NodePaths {
  /** The node's state directory. */
  home: string
  /** Unix socket the wrapper and CLI talk to. */
  socket: string
  /** Held (flock) by the running daemon; guarantees one daemon per home. */
  lockFile: string
  /** Pid of the running daemon, for `meshcc daemon status|stop`. */
  pidFile: string
  /** Local compilation cache. */
  cacheDir: string
  /** Structured daemon logs. */
  logDir: string
  /** Persisted counters of `meshcc stats`. */
  statsFile: string
  /** Lines appended by the native client when it had to compile without the daemon. */
  fallbackLog: string
  /** Optional configuration file. */
  configFile: string
}

/** Resolves the state paths from an environment (the client's, for per-request settings). */
export function nodePaths(env: NodeJS.ProcessEnv = process.env): NodePaths {
  const home = resolve(env['MESHCC_HOME'] || join(env['HOME'] || homedir(), '.meshcc'))
  return {
    home,
    socket: join(home, 'run', 'daemon.sock'),
    lockFile: join(home, 'run', 'daemon.lock'),
    pidFile: join(home, 'run', 'daemon.pid'),
    cacheDir: join(home, 'cache'),
    logDir: join(home, 'logs'),
    statsFile: join(home, 'stats.json'),
    fallbackLog: join(home, 'run', 'fallbacks.log'),
    configFile: join(home, 'config.toml'),
  }
}
