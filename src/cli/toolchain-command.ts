/**
 * `meshcc toolchain list|package|add|show|materialize|remove`: the node's toolchain store from
 * the command line. Human output on stdout, `--json` one JSON document; errors in the house
 * format (`error[CODE]: …` + `hint: …`) on stderr; progress on stderr only when it is a TTY.
 *
 * Exit status: 0 ok, 1 failure, 2 usage error.
 *
 * @example
 * ```ts
 * process.exitCode = await runToolchainCommand(['list', '--json'], { stdout, stderr, env })
 * ```
 */
import { join } from 'node:path'
import { nodePaths } from '../config/paths.ts'
import { MeshccError, ToolchainNotFoundError, UnknownFlagError, UsageError } from '../errors.ts'
import { importToolchain } from '../toolchain/import.ts'
import { ingestToolchain } from '../toolchain/ingest.ts'
import { LANGUAGES, type ToolchainLanguage } from '../toolchain/manifest.ts'
import { packageLocalCompiler } from '../toolchain/package-local.ts'
import { type ProgressSink, terminalProgress } from '../toolchain/progress.ts'
import { ToolchainStore, type ToolchainSummary } from '../toolchain/store.ts'
import { parseCommand } from './args.ts'
import { toolchainHelp } from './toolchain-help.ts'
import { daemonTransfers, formatTransfers, withTransfers } from './transfer-list.ts'

export interface ToolchainCommandIo {
  stdout: ProgressSink
  stderr: ProgressSink
  env: Readonly<Record<string, string | undefined>>
  signal?: AbortSignal
}

const MiB = 1024 * 1024

export async function runToolchainCommand(argv: string[], io: ToolchainCommandIo): Promise<number> {
  const json = argv.includes('--json')
  const out = (v: string) => io.stdout.write(v.endsWith('\n') ? v : `${v}\n`)
  const [sub, ...rest] = argv
  try {
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      out(toolchainHelp['']!)
      return 0
    }
    if (!(sub in toolchainHelp) || sub === '')
      throw new UsageError(`unknown toolchain command '${sub}'`, {
        hint: 'run `meshcc toolchain --help`',
      })
    const store = new ToolchainStore(
      join(nodePaths(io.env as NodeJS.ProcessEnv).home, 'toolchains'),
    )
    const progress = terminalProgress(io.stderr)
    const sig = io.signal ? { signal: io.signal } : {}
    const print = (value: unknown, text: () => string) =>
      out(json ? JSON.stringify(value, null, 2) : text())
    try {
      switch (sub) {
        case 'list': {
          const { values } = parseCommand('toolchain list', rest, {}, 0)
          if (values.help) return help(out, sub)
          const list = await store.list()
          // Transfers the daemon runs for builder jobs (none when no daemon runs).
          const transfers = await daemonTransfers(nodePaths(io.env as NodeJS.ProcessEnv), sig)
          print(withTransfers(list, transfers), () =>
            [formatList(list), formatTransfers(transfers)].filter((s) => s !== '').join('\n\n'),
          )
          return 0
        }
        case 'package': {
          const { values, positionals } = parseCommand(
            'toolchain package',
            rest,
            { lang: { type: 'string' } },
            1,
          )
          if (values.help) return help(out, sub)
          const compiler = positionals[0] ?? io.env['CC'] ?? 'cc'
          const languages = parseLanguages(values.lang)
          const started = performance.now()
          const t = await packageLocalCompiler(compiler, {
            env: io.env,
            onProgress: progress.update,
            ...(languages ? { languages } : {}),
            ...sig,
          })
          const id = await ingestToolchain(store, t, { onProgress: progress.update, ...sig })
          progress.done()
          const bytes = t.manifest.files.reduce((a, f) => a + f.size, 0)
          const ms = Math.round(performance.now() - started)
          print(
            {
              id,
              compiler,
              compilerId: t.manifest.compilerId,
              files: t.manifest.files.length,
              bytes,
              ms,
            },
            () =>
              `${id}\n${t.manifest.compilerId}: ${t.manifest.files.length} files, ${(bytes / MiB).toFixed(1)} MiB, ${ms} ms`,
          )
          return 0
        }
        case 'add': {
          const { values, positionals } = parseCommand(
            'toolchain add',
            rest,
            {
              host: { type: 'string' },
              target: { type: 'string', multiple: true },
              driver: { type: 'string', multiple: true },
              'compiler-id': { type: 'string' },
            },
            1,
          )
          if (values.help) return help(out, sub)
          const path = positionals[0]
          if (path === undefined)
            throw new UsageError('meshcc toolchain add: name a directory or archive')
          if (typeof values.host !== 'string')
            throw new UsageError('meshcc toolchain add: --host PLATFORM is required', {
              hint: 'the platform the toolchain runs on, e.g. --host linux-x86_64',
            })
          const id = await importToolchain(store, path, {
            platform: values.host,
            ...(values.target ? { targets: values.target as string[] } : {}),
            ...(values.driver ? { drivers: parseDrivers(values.driver as string[]) } : {}),
            ...(typeof values['compiler-id'] === 'string'
              ? { compilerId: values['compiler-id'] }
              : {}),
            onProgress: progress.update,
            ...sig,
          })
          progress.done()
          const summary = (await store.list()).find((t) => t.id === id)
          print(
            { id, ...summary },
            () =>
              `${id}\nadd to $MESHCC_HOME/config.toml:\n  [toolchains]\n  "<compiler>" = "${id}"`,
          )
          return 0
        }
        case 'show': {
          const { values, positionals } = parseCommand('toolchain show', rest, {}, 1)
          if (values.help) return help(out, sub)
          const id = await resolveId(store, positionals[0])
          const { manifest } = await store.getManifest(id)
          print({ id, ...manifest }, () => {
            const lines = [
              `id:         ${id}`,
              `compiler:   ${manifest.compilerId}`,
              `platform:   ${manifest.platform}`,
              `targets:    ${manifest.targets.join(' ')}`,
              ...Object.entries(manifest.drivers).map(([l, p]) => `driver:     ${l} = /${p}`),
              `files:      ${manifest.files.length}, ${(manifest.files.reduce((a, f) => a + f.size, 0) / MiB).toFixed(1)} MiB`,
              '',
              ...manifest.files.map(
                (f) =>
                  `${f.mode.toString(8).padStart(4, '0')} ${String(f.size).padStart(10)} ${f.sha256.slice(0, 12)} /${f.path}`,
              ),
              ...manifest.symlinks.map((s) => `link ${''.padStart(23)} /${s.path} -> ${s.target}`),
            ]
            return lines.join('\n')
          })
          return 0
        }
        case 'materialize': {
          const { values, positionals } = parseCommand('toolchain materialize', rest, {}, 1)
          if (values.help) return help(out, sub)
          const id = await resolveId(store, positionals[0])
          const root = await store.materialize(id, {
            onProgress: (d, t) => progress.update('materialising', d, t),
            ...sig,
          })
          progress.done()
          print({ id, root }, () => root)
          return 0
        }
        case 'remove': {
          const { values, positionals } = parseCommand('toolchain remove', rest, {}, 1)
          if (values.help) return help(out, sub)
          const id = await resolveId(store, positionals[0])
          const { freedBytes } = await store.remove(id)
          print(
            { id, freedBytes },
            () => `removed ${id} (${(freedBytes / MiB).toFixed(1)} MiB freed)`,
          )
          return 0
        }
      }
      return 0
    } finally {
      progress.done()
    }
  } catch (err) {
    const e =
      err instanceof MeshccError
        ? err.toJSON()
        : { code: 'ERR_MESHCC_INTERNAL', message: String((err as Error)?.message ?? err), hint: '' }
    if (json) out(JSON.stringify(e, null, 2))
    else {
      io.stderr.write(`error[${e.code}]: ${e.message}\n`)
      if (e.hint) io.stderr.write(`hint: ${e.hint}\n`)
    }
    return err instanceof UsageError || err instanceof UnknownFlagError ? 2 : 1
  }
}

function help(out: (s: string) => unknown, sub: string): number {
  out(toolchainHelp[sub]!)
  return 0
}

async function resolveId(store: ToolchainStore, prefix: string | undefined): Promise<string> {
  if (prefix === undefined) throw new UsageError('name a toolchain id (or a unique prefix of one)')
  if (!/^[0-9a-f]{4,64}$/.test(prefix))
    throw new UsageError(`'${prefix}' is not a toolchain id`, {
      hint: 'ids are hex; see `meshcc toolchain list`',
    })
  const ids = (await store.list()).map((t) => t.id).filter((id) => id.startsWith(prefix))
  if (ids.length === 1) return ids[0]!
  if (ids.length === 0) throw new ToolchainNotFoundError(`no toolchain ${prefix} on this node`)
  throw new UsageError(`'${prefix}' matches ${ids.length} toolchains; give more digits`)
}

function parseLanguages(v: unknown): ToolchainLanguage[] | undefined {
  if (typeof v !== 'string') return undefined
  const langs = v.split(',').map((s) => s.trim())
  for (const l of langs)
    if (!(LANGUAGES as readonly string[]).includes(l))
      throw new UsageError(`unknown language '${l}'`, { hint: `one of ${LANGUAGES.join(', ')}` })
  return langs as ToolchainLanguage[]
}

function parseDrivers(specs: string[]): Partial<Record<ToolchainLanguage, string>> {
  const drivers: Partial<Record<ToolchainLanguage, string>> = {}
  for (const s of specs) {
    const eq = s.indexOf('=')
    const lang = s.slice(0, eq) as ToolchainLanguage
    if (eq < 0 || !(LANGUAGES as readonly string[]).includes(lang))
      throw new UsageError(
        `--driver ${s}: expected LANG=PATH with LANG one of ${LANGUAGES.join(', ')}`,
      )
    drivers[lang] = s.slice(eq + 1).replace(/^\/+/, '')
  }
  return drivers
}

function formatList(list: ToolchainSummary[]): string {
  if (list.length === 0)
    return 'no toolchains (package the local compiler with `meshcc toolchain package`)'
  const rows = list.map((t) => [
    t.id.slice(0, 16),
    t.platform,
    t.targets.join(','),
    `${(t.bytes / MiB).toFixed(1)} MiB`,
    t.complete ? (t.materialized ? 'ready' : 'stored') : 'partial',
    t.compilerId,
  ])
  const head = ['ID', 'PLATFORM', 'TARGETS', 'SIZE', 'STATE', 'COMPILER']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [head, ...rows]
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n')
}
