/**
 * What the benchmark needs from the machine, installed from Debian's packages when missing
 * (nothing installed by hand survives to a new machine), and the machine facts RESULTS.md records.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { run } from './proc.ts'

/** ccache and hyperfine are the anchors; dpkg-dev unpacks source packages; time measures CPU. */
export const requiredPackages = [
  'ccache',
  'hyperfine',
  'dpkg-dev',
  'time',
  'make',
  'gcc',
  'xz-utils',
]

async function installed(pkg: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const r = await run('dpkg-query', ['-W', '-f=${Status}', pkg], { allowFailure: true })
  return r.code === 0 && r.stdout.includes('install ok installed')
}

/** Runs apt-get as root, or through sudo when we are not root. */
async function aptGet(args: string[], signal?: AbortSignal): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (process.getuid?.() === 0) {
    await run('apt-get', args, { env, ...(signal ? { signal } : {}) })
  } else {
    await run('sudo', ['-n', 'apt-get', ...args], { env, ...(signal ? { signal } : {}) })
  }
}

export async function ensurePackages(
  pkgs: readonly string[],
  { signal, log }: { signal?: AbortSignal; log: (s: string) => void },
): Promise<void> {
  const missing: string[] = []
  for (const p of pkgs) if (!(await installed(p))) missing.push(p)
  if (missing.length === 0) return
  log(`installing from Debian: ${missing.join(' ')}`)
  await aptGet(['update', '-qq'], signal)
  await aptGet(['install', '-y', '-qq', '--no-install-recommends', ...missing], signal)
}

const debianSources = '/etc/apt/sources.list.d/debian.sources'
const debSrcFile = '/etc/apt/sources.list.d/meshcc-bench-deb-src.sources'

/**
 * `apt-get source` needs deb-src entries: copy Debian's deb822 sources file with
 * `Types: deb-src` (machine-recipes.md) and refresh the indexes once.
 */
export async function ensureDebSrc({
  signal,
  log,
}: {
  signal?: AbortSignal
  log: (s: string) => void
}) {
  if (!existsSync(debSrcFile)) {
    const text = await readFile(debianSources, 'utf8')
    log(`adding deb-src entries: ${debSrcFile}`)
    const body = text.replace(/^Types:\s*deb\s*$/gm, 'Types: deb-src')
    const write = process.getuid?.() === 0
    if (!write) throw new Error(`run as root (or create ${debSrcFile} from ${debianSources})`)
    await writeFile(debSrcFile, body)
    await aptGet(['update', '-qq'], signal)
  }
}

export interface MachineFacts {
  date: string
  nproc: number
  cpuModel: string
  memGiB: number
  kernel: string
  os: string
  gcc: string
  ccache: string
  hyperfine: string
  node: string
  loadavg: string
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { allowFailure: true })
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? ''
}

/** The 1, 5 and 15 minute load averages: how busy the shared machine was. */
export async function loadAverage(): Promise<string> {
  const text = await readFile('/proc/loadavg', 'utf8').catch(() => '')
  return text.split(' ').slice(0, 3).join(' ')
}

export async function machineFacts(): Promise<MachineFacts> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '')
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: Number(await firstLine('nproc', [])),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: await firstLine('uname', ['-sr']),
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(osRelease)?.[1] ?? 'unknown',
    gcc: await firstLine('gcc', ['--version']),
    ccache: await firstLine('ccache', ['--version']),
    hyperfine: await firstLine('hyperfine', ['--version']),
    node: process.version,
    loadavg: await loadAverage(),
  }
}
