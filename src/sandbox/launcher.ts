/**
 * The daemon's side of `meshcc-sandbox --launcher` (native-sandbox/launcher.c): one small
 * long-lived process that forks the sandbox helper for each run. A Node daemon's own spawn()
 * forks the whole daemon, several milliseconds of its main thread per job; the launcher's fork
 * costs next to nothing, and its child runs only the helper's own code, with the arguments and
 * the empty environment a direct spawn would give it, so a run is isolated exactly as before
 * (without executing the helper binary again: about 0.7 ms per job). It also
 * serves a job's main source through a FIFO (`builder-sources.ts`): Node can neither make one
 * without starting `mkfifo` nor learn when the compiler opens it without polling.
 *
 * One launcher per helper path, started on first use. A helper that does not answer as a
 * launcher (an older build, a stand-in) makes `sandboxLauncher` resolve to `undefined`, and the
 * caller spawns the helper directly. If the launcher dies, its runs end with an error and the
 * next call starts a new one.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import type { Socket } from 'node:net'

/** What a run reports back, as the helper's own pipes would. */
export interface LaunchedRun {
  /** Stops the run (SIGTERM to the helper, which kills its sandbox and reports). */
  kill(): void
}

export interface RunHandlers {
  /** Output on stdout (0), stderr (1) or the status descriptor (2). */
  data(stream: 0 | 1 | 2, chunk: Buffer): void
  /** The helper ended (after all its pipes closed): exit code or signal, as `close` gives them. */
  close(code: number | null, signal: NodeJS.Signals | null): void
  /** The helper could not be started, or the launcher died under it. */
  error(err: Error): void
}

const HELLO_TIMEOUT_MS = 5_000
const SIGNALS: Record<number, NodeJS.Signals> = { 9: 'SIGKILL', 15: 'SIGTERM', 6: 'SIGABRT' }

export class SandboxLauncher {
  readonly #child: ChildProcess
  readonly #runs = new Map<number, RunHandlers>()
  readonly #fifos = new Map<number, (errno: number) => void>()
  #nextId = 1
  #buf: Buffer = Buffer.alloc(0)
  #dead: Error | undefined
  /** Frames are being gathered for one write (`#send`). */
  #corked = false
  #answered = false
  readonly ready: Promise<boolean>
  #hello!: (ok: boolean) => void

  constructor(helper: string, onDead: () => void) {
    this.ready = new Promise((r) => {
      this.#hello = (ok) => {
        this.#answered = true
        r(ok)
        this.#ref()
      }
    })
    const child = spawn(helper, ['--launcher'], { stdio: ['pipe', 'pipe', 'ignore'], env: {} })
    this.#child = child
    const timer = setTimeout(() => this.#die(new Error('no answer')), HELLO_TIMEOUT_MS)
    timer.unref()
    this.ready.then(() => clearTimeout(timer))
    child.on('error', (e) => this.#die(e))
    child.stdin!.on('error', () => {})
    child.on('close', () => {
      this.#die(new Error('the sandbox launcher exited'))
      onDead()
    })
    child.stdout!.on('data', (chunk: Buffer) => this.#read(chunk))
    this.#ref()
  }

  /** The launcher's process id (benchmarks read its reaped children's CPU). */
  get pid(): number | undefined {
    return this.#child.pid
  }

  /** Keeps the process alive only while something is pending. */
  #ref(): void {
    const pending = !this.#answered || this.#runs.size + this.#fifos.size > 0
    const streams = [this.#child.stdout, this.#child.stdin] as unknown as (Socket | null)[]
    if (pending) {
      this.#child.ref()
      for (const s of streams) s?.ref?.()
    } else {
      this.#child.unref()
      for (const s of streams) s?.unref?.()
    }
  }

  #die(err: Error): void {
    if (this.#dead !== undefined) return
    this.#dead = err
    this.#hello(false)
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill()
    for (const h of this.#runs.values()) h.error(err)
    for (const f of this.#fifos.values()) f(-1)
    this.#runs.clear()
    this.#fifos.clear()
  }

  /**
   * Frames sent in one turn of the event loop leave in one write: a job's start sends three or
   * four (its FIFOs, a go, the run), and each write woke the launcher on its own.
   */
  #send(type: string, id: number, payload: Buffer): void {
    const h = Buffer.alloc(9)
    h.write(type, 0, 'latin1')
    h.writeUInt32LE(id, 1)
    h.writeUInt32LE(payload.length, 5)
    const stdin = this.#child.stdin!
    if (!this.#corked) {
      this.#corked = true
      stdin.cork()
      process.nextTick(() => {
        this.#corked = false
        stdin.uncork()
      })
    }
    stdin.write(payload.length > 0 ? Buffer.concat([h, payload]) : h)
  }

  #read(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    let off = 0
    while (this.#buf.length - off >= 9) {
      const len = this.#buf.readUInt32LE(off + 5)
      if (this.#buf.length - off < 9 + len) break
      const type = String.fromCharCode(this.#buf[off]!)
      const id = this.#buf.readUInt32LE(off + 1)
      const body = this.#buf.subarray(off + 9, off + 9 + len)
      off += 9 + len
      this.#frame(type, id, body)
    }
    this.#buf = off === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(off)
  }

  #frame(type: string, id: number, body: Buffer): void {
    if (type === 'H') {
      this.#hello(true)
      return
    }
    if (type === 'F') {
      const done = this.#fifos.get(id)
      this.#fifos.delete(id)
      this.#ref()
      done?.(body.readInt32LE(0))
      return
    }
    const h = this.#runs.get(id)
    if (h === undefined) return
    const stream = type === 'O' ? 0 : type === 'E' ? 1 : type === 'T' ? 2 : undefined
    if (stream !== undefined) {
      h.data(stream, body)
      return
    }
    this.#runs.delete(id)
    this.#ref()
    const v = body.readInt32LE(0)
    if (type === 'P') h.error(new Error(`cannot start the sandbox helper: errno ${v}`))
    else if ((v & 0x7f) === 0) h.close((v >> 8) & 0xff, null)
    // Otherwise killed by signal v & 0x7f (a wait status, as waitpid gives it).
    else h.close(null, SIGNALS[v & 0x7f] ?? 'SIGKILL')
  }

  /** Starts the helper with `args`; `handlers` hear its output and its end. */
  run(args: readonly string[], handlers: RunHandlers): LaunchedRun {
    const id = this.#nextId++
    if (this.#dead !== undefined) {
      const err = this.#dead
      queueMicrotask(() => handlers.error(err))
      return { kill: () => {} }
    }
    this.#runs.set(id, handlers)
    this.#ref()
    this.#send('S', id, Buffer.from(args.map((a) => `${a}\0`).join(''), 'utf8'))
    return {
      kill: () => {
        if (this.#runs.has(id) && this.#dead === undefined) this.#send('K', id, Buffer.alloc(0))
      },
    }
  }

  /**
   * Serves a job's main source through a FIFO at `rel` under the job root `root`: the launcher
   * makes the FIFO (now, before the compile) and a writer that waits for the compiler to open
   * it and for `go` (the text may still be on its way), copies the file `text` in, renames
   * `original` over the FIFO and closes it (`builder-sources.ts` says why). No path under `root`
   * is followed through a link.
   *
   * The request (`'W'`) is written before this returns: a run started afterwards reaches the
   * launcher after it, so the compile need not wait for the answer. `answer` is the writer once
   * the FIFO exists, `undefined` when none could be made. `go` says the file `text` is complete.
   */
  serveFifo(
    root: string,
    rel: string,
    text: string,
    original: string,
  ): { answer: Promise<LaunchedRun | undefined>; go(): void } {
    if (this.#dead !== undefined) return { answer: Promise.resolve(undefined), go: () => {} }
    const id = this.#nextId++
    const answer = new Promise<LaunchedRun | undefined>((resolve) => {
      this.#fifos.set(id, (errno) => {
        if (errno !== 0) return resolve(undefined)
        // Its end ('X') is of no interest; the entry lets `kill` reach it until then.
        this.#runs.set(id, { data: () => {}, close: () => {}, error: () => {} })
        this.#ref()
        resolve({
          kill: () => {
            if (this.#runs.has(id) && this.#dead === undefined) this.#send('K', id, Buffer.alloc(0))
          },
        })
      })
    })
    this.#ref()
    this.#send('W', id, Buffer.from([root, rel, text, original].map((a) => `${a}\0`).join('')))
    return {
      answer,
      go: () => {
        if (this.#dead === undefined) this.#send('G', id, Buffer.alloc(0))
      },
    }
  }
}

const launchers = new Map<string, Promise<SandboxLauncher | undefined>>()

/**
 * The launcher for `helper`, started on first use; `undefined` when the helper cannot be one
 * (then spawn it directly). Set `MESHCC_SANDBOX_LAUNCHER=0` to always spawn directly.
 */
export function sandboxLauncher(helper: string): Promise<SandboxLauncher | undefined> {
  if (process.env['MESHCC_SANDBOX_LAUNCHER'] === '0') return Promise.resolve(undefined)
  let p = launchers.get(helper)
  if (p === undefined) {
    const l = new SandboxLauncher(helper, () => {
      // Only a launcher that worked is replaced; one that never answered stays `undefined`.
      void l.ready.then((ok) => ok && launchers.get(helper) === p && launchers.delete(helper))
    })
    p = l.ready.then((ok) => (ok ? l : undefined))
    launchers.set(helper, p)
  }
  return p
}
