/**
 * gcc's preprocessor without its driver, for the client's half of a remote compile.
 *
 * `gcc -E` is a driver that reads its specs, works out cc1's command line and forks cc1: about a
 * third of the preprocessing of a small file (7.6 ms → 5.1 ms per tiny unit here, 2.5 ms of the
 * client's CPU per job). The command the driver would run depends only on the compiler, its
 * environment, the working directory and the arguments; what changes from one job to the next
 * (the scratch directory and name, the source, the depfile targets) is copied into cc1's command
 * line as is, or as a part of a string (`-dumpbase pp-<id>.c`). So the command is learnt once per
 * flag set with `gcc -###`, with sentinel strings in place of those values, and then filled in
 * per job.
 *
 * A learnt command is trusted only after one job's text, depfile and messages made with it were
 * byte-identical to what the driver made for that same job; any difference, a `-###` output that
 * is not exactly one absolute cc1 command, or a command that later cannot be started, sends the
 * flag set back to the driver for the daemon's lifetime. Learning and checking run in the
 * background, after a job preprocessed by the driver: no job waits for them.
 */
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { readFile, unlink } from 'node:fs/promises'
import { basename, isAbsolute, join } from 'node:path'
import { runCompiler } from '../compile/run-compiler.ts'

/** The values that change per job, and their sentinels in a learnt command. */
export interface JobValues {
  /** Scratch directory (absolute) of the text and depfile. */
  dir: string
  /** Scratch name (`scratchPaths`). */
  id: string
  /** The source argument, as written on the command line. */
  source: string
  /** Depfile targets (-MT/-MQ values), in order. */
  targets: string[]
}

/** Where a job's preprocessor writes: the text `<dir>/pp-<id>.i`, the depfile `<dir>/pp-<id>.d`. */
export function scratchPaths(values: Pick<JobValues, 'dir' | 'id'>): { text: string; dep: string } {
  return {
    text: join(values.dir, `pp-${values.id}.i`),
    dep: join(values.dir, `pp-${values.id}.d`),
  }
}

const SENTINEL_DIR = '/MESHCC-DIR-S3NT'
const SENTINEL_ID = 'MESHCC-ID-S3NT'
const SENTINEL_SOURCE = 'MESHCC-SRC-S3NT'

/** The sentinels standing for a job's values (the source keeps its extension: gcc reads it). */
export function sentinelValues(values: JobValues): JobValues {
  const dot = values.source.lastIndexOf('.')
  const ext = dot > values.source.lastIndexOf('/') ? values.source.slice(dot) : ''
  return {
    dir: SENTINEL_DIR,
    id: SENTINEL_ID,
    source: `${SENTINEL_SOURCE}${ext}`,
    targets: values.targets.map((_t, i) => `MESHCC-T${i}-S3NT`),
  }
}

/**
 * A learnt command with a job's values in place of the sentinels, in one pass (a value that
 * happens to contain a sentinel's text is never replaced again).
 */
export function fillCommand(template: readonly string[], values: JobValues): string[] {
  const source = sentinelValues(values).source
  const pattern = new RegExp(
    `${SENTINEL_DIR}|${SENTINEL_ID}|${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|MESHCC-T(\\d+)-S3NT`,
    'g',
  )
  return template.map((arg) =>
    arg.replace(pattern, (whole, target: string | undefined) => {
      if (whole === SENTINEL_DIR) return values.dir
      if (whole === SENTINEL_ID) return values.id
      if (whole === source) return values.source
      return values.targets[Number(target)] ?? whole
    }),
  )
}

/**
 * The commands in gcc's `-###` output (stderr): the lines that start with a space, each argument
 * bare or in double quotes with `\` escaping `"`, `\` and `$`. Undefined if a line is malformed.
 */
export function parseDriverCommands(stderr: string): string[][] | undefined {
  const commands: string[][] = []
  for (const line of stderr.split('\n')) {
    if (!line.startsWith(' ')) continue
    const argv: string[] = []
    let i = 0
    while (i < line.length) {
      if (line[i] === ' ') {
        i++
        continue
      }
      if (line[i] !== '"') {
        const end = line.indexOf(' ', i)
        const stop = end < 0 ? line.length : end
        argv.push(line.slice(i, stop))
        i = stop
        continue
      }
      let arg = ''
      i++
      for (;;) {
        if (i >= line.length) return undefined
        const c = line[i] as string
        if (c === '"') break
        if (c === '\\' && i + 1 < line.length) {
          arg += line[i + 1]
          i += 2
          continue
        }
        arg += c
        i++
      }
      i++
      if (i < line.length && line[i] !== ' ') return undefined
      argv.push(arg)
    }
    if (argv.length > 0) commands.push(argv)
  }
  return commands
}

const CC1_NAMES = new Set(['cc1', 'cc1plus', 'cc1obj', 'cc1objplus'])

/**
 * The single cc1 command of a `-###` output for sentinel arguments, or undefined when it is not
 * something to run without the driver: several commands (`-save-temps`, `-fcompare-debug`), a
 * relative program, another program, or a command that lost the text path or the source.
 */
export function learntTemplate(stderr: string, sentinels: JobValues): string[] | undefined {
  const commands = parseDriverCommands(stderr)
  if (commands?.length !== 1) return undefined
  const argv = commands[0] as string[]
  const program = argv[0] as string
  if (!isAbsolute(program) || !CC1_NAMES.has(basename(program))) return undefined
  if (!argv.includes(scratchPaths(sentinels).text)) return undefined
  if (!argv.includes(sentinels.source)) return undefined
  return argv
}

/** Environment the driver reads to find and configure cc1: part of a flag set's identity. */
function driverEnvironment(env: Record<string, string>): [string, string][] {
  return Object.entries(env)
    .filter(([k]) => k.startsWith('GCC_') || k === 'COMPILER_PATH' || k === 'LIBRARY_PATH')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** A preprocessing job as the driver would run it, with its flag set's identity. */
export interface DriverJob {
  compiler: string
  cwd: string
  env: Record<string, string>
  values: JobValues
  /** The driver's arguments with the job's values replaced by sentinels. */
  sentinelArgs: string[]
}

/** What the driver made for a job, to compare a learnt command with. */
export interface DriverSample {
  textHash: string
  depfileHash: string | undefined
  stderr: Buffer
}

type Entry = { state: 'learning' } | { state: 'driver-only' } | { state: 'ready'; argv: string[] }

/** Flag sets remembered at most; beyond, the oldest is forgotten (learnt again if it returns). */
const MAX_FLAG_SETS = 512
/** A learning run (the `-###` and the checking preprocess) gives up after this long. */
const LEARN_TIMEOUT_MS = 120_000
/**
 * Flag sets learnt at once. Each learning forks the daemon twice and preprocesses once more; a
 * build that starts with hundreds of flag sets must not get all of that in one burst (the
 * others keep the driver until a later job of theirs finds a free turn).
 */
const MAX_LEARNING = 2

export function hashBytes(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64')
}

export class GccDriverCommands {
  readonly #entries = new Map<string, Entry>()
  #learning = 0
  readonly #onLearnt: ((key: string, outcome: 'ready' | 'driver-only') => void) | undefined

  constructor(
    options: { onLearnt?: (key: string, outcome: 'ready' | 'driver-only') => void } = {},
  ) {
    this.#onLearnt = options.onLearnt
  }

  /** The flag set's identity, or undefined when the compiler cannot be looked at. */
  keyOf(job: DriverJob): string | undefined {
    let id: string
    try {
      const st = statSync(job.compiler)
      id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`
    } catch {
      return undefined
    }
    return JSON.stringify([job.compiler, id, job.cwd, driverEnvironment(job.env), job.sentinelArgs])
  }

  /** cc1's command for this job, when its flag set's command is learnt and checked. */
  command(key: string, values: JobValues): string[] | undefined {
    const entry = this.#entries.get(key)
    return entry?.state === 'ready' ? fillCommand(entry.argv, values) : undefined
  }

  /** Whether a driver run of this flag set should be sampled (`learn`) now. */
  wantsSample(key: string): boolean {
    return !this.#entries.has(key) && this.#learning < MAX_LEARNING
  }

  /** A learnt command misbehaved (could not start, died): the flag set goes back to the driver. */
  reject(key: string): void {
    this.#set(key, { state: 'driver-only' })
  }

  /**
   * Learns the flag set's command from `-###` and checks it against the driver's result for the
   * same job, in the background. Never throws; the promise is for tests.
   */
  learn(key: string, job: DriverJob, sample: DriverSample): Promise<void> {
    if (this.#entries.has(key) || this.#learning >= MAX_LEARNING) return Promise.resolve()
    this.#set(key, { state: 'learning' })
    this.#learning++
    const signal = AbortSignal.timeout(LEARN_TIMEOUT_MS)
    return this.#learn(job, sample, signal)
      .finally(() => {
        this.#learning--
      })
      .then(
        (argv) => {
          this.#set(key, argv === undefined ? { state: 'driver-only' } : { state: 'ready', argv })
          this.#onLearnt?.(key, argv === undefined ? 'driver-only' : 'ready')
        },
        () => {
          this.#set(key, { state: 'driver-only' })
          this.#onLearnt?.(key, 'driver-only')
        },
      )
  }

  async #learn(
    job: DriverJob,
    sample: DriverSample,
    signal: AbortSignal,
  ): Promise<string[] | undefined> {
    const spec = { cwd: job.cwd, env: job.env }
    const shown = await runCompiler(
      { ...spec, compiler: job.compiler, args: ['-###', ...job.sentinelArgs] },
      { signal },
    )
    if (shown.exitCode !== 0 || shown.signal !== null) return undefined
    const template = learntTemplate(shown.stderr.toString('utf8'), sentinelValues(job.values))
    if (template === undefined) return undefined
    // The check: the same job again, into scratch files of its own, through the learnt command.
    const values: JobValues = { ...job.values, id: `${job.values.id}-check` }
    const argv = fillCommand(template, values)
    const { text, dep } = scratchPaths(values)
    try {
      const run = await runCompiler(
        { ...spec, compiler: argv[0] as string, args: argv.slice(1) },
        { signal },
      )
      if (run.exitCode !== 0 || run.signal !== null || !run.stderr.equals(sample.stderr))
        return undefined
      if (hashBytes(await readFile(text)) !== sample.textHash) return undefined
      if (sample.depfileHash !== undefined && hashBytes(await readFile(dep)) !== sample.depfileHash)
        return undefined
      return template
    } finally {
      await Promise.all([unlink(text).catch(() => {}), unlink(dep).catch(() => {})])
    }
  }

  #set(key: string, entry: Entry): void {
    this.#entries.delete(key)
    if (this.#entries.size >= MAX_FLAG_SETS) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    this.#entries.set(key, entry)
  }
}
