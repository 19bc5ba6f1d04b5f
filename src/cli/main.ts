/**
 * The management CLI (`dist/cli/main.js`), run on the project's Node 24 by the native client
 * for `meshcc daemon …`, `meshcc join`, `meshcc peers`, `meshcc stats`, `meshcc cache …`,
 * `meshcc org …`, `meshcc doctor`, `meshcc --help`, … Compiles never come here: they stay in
 * the native client.
 *
 * Exit status: 0 ok, 1 failure, 2 usage error (unknown command or flag), 3 `daemon status` when
 * no daemon runs.
 *
 * @example
 * ```sh
 * meshcc stats --json
 * ```
 */
import { enableCompileCache } from 'node:module'
import { nodePaths } from '../config/paths.ts'
import { meshccVersion } from '../daemon/version.ts'
import {
  CommandNotAvailableError,
  DaemonUnavailableError,
  UnknownFlagError,
  UsageError,
} from '../errors.ts'
import { parseCommand } from './args.ts'
import { commandHelp, laterCommands, mainHelp } from './help.ts'
import { createOutput, printJson, reportError } from './output.ts'

export async function runCli(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const o = createOutput(json)
  const [first, ...rest] = argv
  try {
    if (first === undefined || first === '--help' || first === '-h') {
      o.out(mainHelp)
      return 0
    }
    if (first === '--version') {
      o.out(meshccVersion)
      return 0
    }
    const paths = nodePaths()
    switch (first) {
      case 'help': {
        const { values, positionals } = parseCommand('help', rest, {}, 1)
        const topic = values.help ? 'help' : positionals[0]
        if (topic === undefined) o.out(mainHelp)
        else if (topic === 'toolchain') {
          const { toolchainHelp } = await import('./toolchain-help.ts')
          o.out(toolchainHelp['']!)
        } else if (topic === 'peers') {
          const { peersHelp } = await import('./peers-command.ts')
          o.out(peersHelp)
        } else if (topic === 'org') {
          const { printOrgHelp } = await import('./org-help.ts')
          return printOrgHelp({ stdout: process.stdout, stderr: process.stderr, env: process.env })
        } else if (commandHelp[topic]) o.out(commandHelp[topic])
        else throw new UsageError(`no help for '${topic}': not a meshcc command`)
        return 0
      }
      case 'version': {
        const { values } = parseCommand('version', rest, {}, 0)
        if (values.help) o.out(commandHelp['version']!)
        else if (json) printJson(o, { version: meshccVersion, node: process.version })
        else o.out(meshccVersion)
        return 0
      }
      // Loaded on demand: `meshcc --version` should not pay for the cache store's modules.
      case 'daemon':
        return await (await import('./daemon-command.ts')).daemonCommand(rest, o, paths)
      case 'stats':
        return await (await import('./stats-command.ts')).statsCommand(rest, o, paths)
      case 'doctor':
        return await (await import('./doctor-command.ts')).doctorCommand(rest, o, paths)
      case 'cache':
        return await (await import('./cache-command.ts')).cacheCommand(rest, o, paths)
      case 'toolchain': {
        const { runToolchainCommand } = await import('./toolchain-command.ts')
        return await runToolchainCommand(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
        })
      }
      case 'org': {
        const { runOrgCommand } = await import('./org-command.ts')
        const { controlRequest } = await import('./control-client.ts')
        return await runOrgCommand(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          // The running node's peer id and addresses go into invitations.
          mesh: {
            self: async ({ signal }) =>
              (
                await controlRequest(paths, 'mesh-self', {
                  timeoutMs: 3000,
                  ...(signal === undefined ? {} : { signal }),
                })
              )['self'] as { peerId: string; addrs: string[] },
          },
        })
      }
      case 'join':
        return await (await import('./join-command.ts')).joinCommand(rest, o, paths)
      case 'peers': {
        const { runPeersCommand } = await import('./peers-command.ts')
        const { daemonPeersSource } = await import('../monitor/daemon-source.ts')
        const { isDaemonAbsent } = await import('./control-client.ts')
        const daemon = daemonPeersSource(paths)
        return await runPeersCommand(
          rest,
          { stdout: process.stdout, stderr: process.stderr, env: process.env },
          {
            snapshot: (signal) =>
              daemon.snapshot(signal).catch((err: unknown) => {
                if (!isDaemonAbsent(err)) throw err
                throw new DaemonUnavailableError((err as Error).message, {
                  hint: 'no daemon runs for this MESHCC_HOME: `meshcc join` starts one that hosts the mesh',
                })
              }),
          },
        )
      }
    }
    if ((laterCommands as readonly string[]).includes(first)) {
      throw new CommandNotAvailableError(
        `meshcc ${first} is not available in meshcc ${meshccVersion}`,
      )
    }
    if (first.startsWith('-')) {
      throw new UnknownFlagError(`unknown option '${first}'`, {
        hint: 'run `meshcc --help`; to compile, name the compiler first: meshcc gcc …',
      })
    }
    throw new UsageError(`unknown command '${first}'`)
  } catch (err) {
    const usage =
      err instanceof UsageError ||
      err instanceof UnknownFlagError ||
      err instanceof CommandNotAvailableError
    return reportError(o, err, usage)
  }
}

// Caches compiled code of the modules loaded from here on (the dynamic imports above).
enableCompileCache?.()
process.exitCode = await runCli(process.argv.slice(2))
