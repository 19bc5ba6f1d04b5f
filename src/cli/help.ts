/**
 * Help texts of the CLI (`meshcc --help`, `meshcc <command> --help`). The wrapper forms are
 * described here too, since `meshcc` with no arguments is where users look first.
 */

export const mainHelp = `meshcc — peer-to-peer compile farm and compilation cache

Usage:
  meshcc <compiler> [compiler args…]     compile through meshcc (e.g. meshcc gcc -c a.c -o a.o)
  meshcc <command> [options]

Wrapper forms:
  prefix        meshcc gcc …, or CMAKE_<LANG>_COMPILER_LAUNCHER=meshcc
  masquerade    a directory of symlinks gcc, g++, cc, c++, clang, clang++ → meshcc, first on PATH
  ccache        CCACHE_PREFIX=meshcc ccache gcc …

Commands:
  daemon start|status|stop   manage this node's daemon (started on demand by any compile)
  stats [--zero]             cache hits, misses, uncacheable reasons, fallbacks, time saved
  doctor                     check the installation and environment
  help [command]             show help for a command
  version                    print meshcc's version

Every command takes --help, and --json for machine-readable output.

Environment:
  MESHCC_HOME      state directory (socket, cache, logs, stats); default ~/.meshcc
  MESHCC_DISABLE   set to 1 to run the real compiler directly
  MESHCC_NODE      Node 24 binary to use instead of the project's node_modules/node
`

export const commandHelp: Record<string, string> = {
  daemon: `Usage: meshcc daemon <start|status|stop> [--json]

  start [--foreground]   start the daemon (detached unless --foreground); ok if already running
  status                 whether the daemon runs, with pid, version, uptime and socket
                         (exit status 3 when it does not run)
  stop                   ask the daemon to stop and wait until its process is gone

The daemon serves compiles on $MESHCC_HOME/run/daemon.sock and logs to
$MESHCC_HOME/logs/daemon.log. Any compile starts it when it is not running.
`,
  stats: `Usage: meshcc stats [--json] [--zero]

Shows cache hits (direct and preprocessor mode), misses, uncacheable invocations by reason,
local and remote compiles, local fallbacks by reason, the cache's size and the time saved.
Asks the running daemon; when none runs, reads $MESHCC_HOME/stats.json.

  --zero   reset the counters to zero (the cache itself is kept)
  --json   print the counters as JSON (cache_hits, cache_misses, uncacheable, …)
`,
  doctor: `Usage: meshcc doctor [--json]

Checks Node (≥ 24), the native client, the daemon, MESHCC_HOME, the cache directory, the
compilers on PATH and any masquerade directory. Prints ok/warn/fail with a hint for each.
Exit status 1 if a check failed.
`,
  version: `Usage: meshcc version [--json]

Prints meshcc's version.
`,
  help: `Usage: meshcc help [command]
`,
}

/** Commands planned for later versions: they answer with ERR_MESHCC_NOT_AVAILABLE. */
export const laterCommands = ['join', 'peers', 'org', 'toolchain', 'cache', 'config'] as const
