/**
 * The builder's compile when the main source is served through a FIFO (`builder-sources.ts`):
 * the compile starts as soon as the FIFO is asked for, without waiting for the launcher's
 * answer (a round trip that kept the compile waiting 0.4–1 ms per job). When the answer is that no FIFO could be
 * made, what that compile read is not the job's input: it is stopped and forgotten, the text is
 * written as a plain file, and the compile runs again. Without a FIFO at all, the text is written
 * first.
 */
export async function compileOnServedInput<T>(
  serving: { served: Promise<boolean> } | undefined,
  compile: (signal: AbortSignal) => Promise<T>,
  writeInput: () => Promise<void>,
  signal: AbortSignal,
): Promise<T> {
  if (serving === undefined) {
    await writeInput()
    return compile(signal)
  }
  const first = new AbortController()
  const running = compile(AbortSignal.any([signal, first.signal]))
  running.catch(() => {}) // awaited below, or forgotten
  if (await serving.served) return running
  first.abort(new Error('no FIFO for the main source'))
  await running.catch(() => {})
  await writeInput()
  return compile(signal)
}
