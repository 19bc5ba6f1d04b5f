/**
 * Progress of long toolchain operations (hashing, storing, unpacking, materialising) on a
 * terminal: one rewritten line on stderr, at most ten updates a second, cleared at the end.
 * Nothing is printed when stderr is not a TTY, so logs and `--json` output stay clean.
 */
export interface ProgressSink {
  write(text: string): unknown
  isTTY?: boolean
}

const MiB = 1024 * 1024

export function terminalProgress(sink: ProgressSink): {
  update: (phase: string, done: number, total: number) => void
  done: () => void
} {
  if (!sink.isTTY) return { update: () => {}, done: () => {} }
  let last = 0
  let shown = false
  return {
    update(phase, done, total) {
      const now = Date.now()
      if (now - last < 100 && done !== total) return
      last = now
      shown = true
      const amount =
        total > 0
          ? `${(done / MiB).toFixed(1)}/${(total / MiB).toFixed(1)} MiB (${Math.floor((100 * done) / total)}%)`
          : `${(done / MiB).toFixed(1)} MiB`
      sink.write(`\r\x1b[2K${phase} ${amount}`)
    },
    done() {
      if (shown) sink.write('\r\x1b[2K')
    },
  }
}
