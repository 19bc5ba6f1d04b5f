/**
 * Shared set-up of the remote-job tests: the local gcc (and clang) packaged into a builder's
 * toolchain store, in-process meshes on the memory transport with a BuilderService on the
 * builder, a small project on disk, and helpers that compile it locally and remotely.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseCompilerArgs } from '../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../src/compilers/types.ts'
import type { Org, Role } from '../../src/identity/types.ts'
import { BuilderService, type BuilderOptions } from '../../src/remote/builder-service.ts'
import { JOB_PROTOCOL, JobChannel } from '../../src/remote/job-protocol.ts'
import { RemoteExecutor, type RemoteOutcome } from '../../src/remote/remote-executor.ts'
import { ingestToolchain } from '../../src/toolchain/ingest.ts'
import { packageLocalCompiler } from '../../src/toolchain/package-local.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { memberCredentials, startMemoryNode, type TestNode, waitFor } from '../helpers/mesh.ts'

export const ROOT = join(import.meta.dirname, '..', '..')
export const hasClang = spawnSync('sh', ['-c', 'command -v clang']).status === 0

export function buildSandboxHelper(): void {
  execFileSync('make', ['-s', '-C', join(ROOT, 'native-sandbox')])
}

export interface Toolchains {
  dir: string
  store: ToolchainStore
  ids: Record<string, string>
}

/** Packages the named local compilers into a fresh store (as a builder that holds them). */
export async function packageToolchains(compilers: string[]): Promise<Toolchains> {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-remote-tc-'))
  const store = new ToolchainStore(join(dir, 'toolchains'))
  const ids: Record<string, string> = {}
  for (const c of compilers) {
    const t = await packageLocalCompiler(c)
    await ingestToolchain(store, t)
    await store.materialize(t.id)
    ids[c] = t.id
  }
  return { dir, store, ids }
}

export interface Pair {
  client: TestNode
  builderNode: TestNode
  builder: BuilderService
  exec: RemoteExecutor
  work: string
  stop(): Promise<void>
}

/** A client and a builder, admitted to each other; the builder serves jobs. */
export async function startPair(
  org: Org,
  tc: Toolchains,
  opts: {
    builder?: Partial<BuilderOptions>
    builderRoles?: Role[]
    clientRoles?: Role[]
    exec?: { stallMs?: number; deadlineMs?: number }
  } = {},
): Promise<Pair> {
  const work = await mkdtemp(join(tmpdir(), 'meshcc-remote-work-'))
  const builderNode = await startMemoryNode(org, {
    credentials: (k) =>
      memberCredentials(org, k, { name: 'builder', roles: opts.builderRoles ?? ['builder'] }),
  })
  const builder = new BuilderService({
    store: tc.store,
    slots: 2,
    workDir: join(work, 'jobs'),
    ...opts.builder,
  })
  await builder.register(builderNode.mesh)
  const client = await startMemoryNode(org, {
    bootstrap: builderNode.mesh.addrs(),
    credentials: (k) =>
      memberCredentials(org, k, { name: 'client', roles: opts.clientRoles ?? ['client'] }),
  })
  await waitFor(() => client.mesh.admission.isMember(builderNode.mesh.peerId), {
    what: 'client admits builder',
  })
  await waitFor(() => builderNode.mesh.admission.isMember(client.mesh.peerId), {
    what: 'builder admits client',
  })
  const exec = new RemoteExecutor({ node: client.mesh.node, tempDir: work, ...opts.exec })
  return {
    client,
    builderNode,
    builder,
    exec,
    work,
    stop: async () => {
      await Promise.all([client.mesh.stop(), builderNode.mesh.stop()])
      await rm(work, { recursive: true, force: true })
      await rm(client.home, { recursive: true, force: true })
      await rm(builderNode.home, { recursive: true, force: true })
    },
  }
}

/** Writes files (path → text) under `dir`. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true })
    await writeFile(join(dir, rel), text)
  }
}

export const ENV: Record<string, string> = { PATH: '/usr/bin:/bin', LC_ALL: 'C' }

export function parse(compiler: string, args: string[], cwd: string): CacheableInvocation {
  const inv = parseCompilerArgs(args, { compiler, cwd })
  if (!inv.cacheable) throw new Error(`not cacheable: ${inv.reason} ${inv.detail}`)
  return inv
}

export function localCompile(compiler: string, args: string[], cwd: string) {
  const r = spawnSync(compiler, args, { cwd, env: ENV })
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A fresh job stream from the pair's client to its builder. */
export async function openJobChannel(pair: Pair): Promise<JobChannel> {
  const builder = pair.builderNode.mesh.peerId
  const conn = await pair.client.mesh.node.dial(builder)
  return new JobChannel(await conn.newStream(JOB_PROTOCOL), builder.toString())
}

/** prepare + send + commit, as the daemon will. */
export async function remoteCompile(
  pair: Pair,
  compiler: string,
  args: string[],
  cwd: string,
  toolchain: string,
  { commit = true, peer }: { commit?: boolean; peer?: string } = {},
): Promise<RemoteOutcome & { prepared: Awaited<ReturnType<RemoteExecutor['prepare']>> }> {
  const inv = parse(compiler, args, cwd)
  const job = await pair.exec.prepare({ compiler, inv, cwd, env: ENV, toolchain })
  const out = await pair.exec.send(job, peer ?? pair.builderNode.mesh.peerId.toString())
  if (commit) await pair.exec.commit(job, out, { umask: 0o022 })
  return { ...out, prepared: job }
}

/** The one-source project of the reservation tests: `src/a.c`, compiled by `SOURCE_ARGS`. */
export const SOURCE_ARGS = ['-g', '-O2', '-c', 'src/a.c', '-o', 'a.o']

export interface SourcePair {
  tc: Toolchains
  pair: Pair
  /** The project's directory, and the object a local compile made there (removed since). */
  cwd: string
  local: Buffer
  builderId: string
  stop(): Promise<void>
}

/** A pair (gcc packaged) and the one-source project in a fresh directory named `prefix…`. */
export async function startSourcePair(
  org: Org,
  prefix: string,
  opts: Parameters<typeof startPair>[2] = {},
): Promise<SourcePair> {
  buildSandboxHelper()
  const tc = await packageToolchains(['gcc'])
  const pair = await startPair(org, tc, opts)
  const cwd = await mkdtemp(join(tmpdir(), prefix))
  await writeTree(cwd, {
    'src/a.c': 'int sq(int x) { return x * x; }\nint cube(int x) { return sq(x) * x; }\n',
  })
  if (localCompile('gcc', SOURCE_ARGS, cwd).exitCode !== 0) throw new Error('local gcc failed')
  const local = await readFile(join(cwd, 'a.o'))
  await rm(join(cwd, 'a.o'))
  return {
    tc,
    pair,
    cwd,
    local,
    builderId: pair.builderNode.mesh.peerId.toString(),
    stop: async () => {
      await pair.stop()
      await rm(tc.dir, { recursive: true, force: true })
      await rm(cwd, { recursive: true, force: true })
    },
  }
}
