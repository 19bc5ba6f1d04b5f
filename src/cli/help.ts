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
  join [--invite TOKEN]         make this node a mesh member (a first machine starts its own
                                organisation; others join with a token from \`meshcc org invite\`)
  peers [--json]                live view of the mesh's members: cores, free slots, load, …
  daemon start|status|stop      manage this node's daemon (started on demand by any compile)
  stats [--zero]                cache hits, misses, uncacheable reasons, fallbacks, time saved
  cache clear                   remove every entry of the local cache
  org init|invite|issue|revoke|show
                                create an organisation, invite machines, issue certificates,
                                revoke members
  toolchain list|package|add|show|materialize|remove
                                toolchains this node holds, by content hash
  doctor                        check the installation and environment
  help [command]                show help for a command
  version                       print meshcc's version

Every command takes --help, and --json for machine-readable output.

Environment:
  MESHCC_HOME             state directory (socket, cache, logs, stats); default ~/.meshcc
  MESHCC_DISABLE          set to 1 to run the real compiler directly
  MESHCC_NODE             Node 24 binary to use instead of the project's node_modules/node
  MESHCC_CLIENT_TIMEOUT   seconds a compile waits on a silent daemon before compiling
                          locally (default 20; a busy daemon keeps sending keepalives)
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
local and remote compiles (retries, fallbacks by reason, and how members answered this node's
reservations: granted, busy, unanswered), local fallbacks by reason, the cache's size and the
time saved. A joined node, or one that built for others, also shows what it built for other
members: jobs compiled and failed, busy and refused answers, reservations granted and busy.
Asks the running daemon; when none runs, reads $MESHCC_HOME/stats.json and counts the
compiles that ran without a daemon ($MESHCC_HOME/run/fallbacks.log).

  --zero   reset the counters to zero (the cache itself is kept)
  --json   print the counters as JSON (cache_hits, cache_misses, uncacheable, …,
           builder_jobs_compiled, builder_slots; docs/design.md 2.11 lists them all)
`,
  cache: `Usage: meshcc cache clear [--json]

  clear   remove every entry (objects and direct-mode manifests) of the local cache in
          $MESHCC_HOME/cache; the next compile of each file is a miss

Goes through the running daemon, or clears the directory itself when no daemon runs. The
statistics are kept (\`meshcc stats --zero\` resets them).
`,
  doctor: `Usage: meshcc doctor [--json]

Checks Node (≥ 24), the native client, MESHCC_HOME, the daemon (running, failed to start,
or not answering), the client timeout, compiles that ran without the daemon, the mesh
(joined or not; the certificate, its organisation, days to expiry and its renewal over the
mesh; admitted members connected now; listen addresses; mDNS; the private-network key), the
cache directory, the compilers on PATH and any masquerade directory. Prints ok/warn/fail
with a hint for each problem; --json prints { ok, checks: [{ name, status, detail, hint }] }.
Exit status 1 if a check failed.
`,
  join: `Usage: meshcc join [--invite TOKEN | --cert FILE [--ca FILE]] [options]

Makes this node a member of a mesh, records that in $MESHCC_HOME/mesh.toml (every later
daemon start hosts the mesh, and a joined daemon never idles out) and starts the mesh in
the daemon.

  --invite TOKEN        join the organisation of the node that printed TOKEN
                        (\`meshcc org invite\` there); the token is single-use by default
  --cert FILE           install a certificate for this node made elsewhere
                        (\`meshcc org issue --peer ID\` on an admin node; the peer id is
                        shown by \`meshcc org show\` here)
  --ca FILE             the organisation's public key for --cert (default: the one trusted)
  (neither)             keep this node's certificate; on a machine with no organisation,
                        create a personal one (then invite other machines from here)
  --bootstrap ADDR      a member to dial at start, e.g. /ip4/10.0.0.5/tcp/7341/p2p/12D3…
                        (repeatable; --invite adds the inviting node's addresses)
  --listen ADDR         where to accept members (repeatable; default /ip4/0.0.0.0/tcp/0;
                        a port 0 is replaced by the port obtained, so restarts keep it)
  --psk FILE            the organisation's private-network key (95-byte libp2p key file)
  --mdns, --no-mdns     find members on the LAN by mDNS (default on)
  --name LABEL          host label for the certificate (default the host name)
  --foreground          run the daemon in this terminal (log on stderr) until stopped
  --json                print { joined, org, peerId, created, addrs, settings }
`,
  version: `Usage: meshcc version [--json]

Prints meshcc's version.
`,
  help: `Usage: meshcc help [command]

Shows the overview of meshcc, or the help of one command (the same as \`meshcc <command> --help\`).
`,
}

/** Commands planned for later versions: they answer with ERR_MESHCC_NOT_AVAILABLE. */
export const laterCommands = ['config'] as const
