/**
 * gcc's second way of compiling a job: `-fpreprocessed -fdirectives-only`, for `-pedantic`
 * compiles. Compiled as ordinary source (the default, `builder-sources.ts`), the preprocessed text
 * makes every line marker a pedantic "style of line directive is a GCC extension" diagnostic (an
 * error under `-pedantic-errors`); marked as preprocessed it does not, and gcc takes the file
 * name for the object and for diagnostics from the text's first line marker, so the text can sit
 * anywhere (`/.meshcc/input/…` in the sandbox) while the original source sits at its own path for
 * excerpts. Two conditions, both checked here:
 *
 * - the `<built-in>` definitions the client strips from the text (`stripGccBuiltins`) must be
 *   back: gcc does not predefine them for preprocessed input. They come from the same compiler
 *   with the same preprocessor arguments on an empty input (one run per argument set, cached),
 *   in the same form and place as in a full `-E -fdirectives-only` output;
 * - the object must not record the switches: `-fdirectives-only` would appear in
 *   `DW_AT_producer`, so only compiles without debug information and without
 *   `-frecord-gcc-switches` use this mode (the tests compare objects byte for byte).
 */
import { execFile } from 'node:child_process'
import type { CacheableInvocation } from '../compilers/types.ts'

/** Arguments whose diagnostics only this mode reproduces. */
export const PEDANTIC = [/^-pedantic/, /^-W(?:error=)?pedantic/]

/** Response feature of a builder that compiled in this mode. */
export const PREPROCESSED_FEATURE = 'fpreprocessed'

/** Where the builder places the preprocessed text in this mode (inside the sandbox). */
export const SANDBOX_INPUT_DIR = '/.meshcc/input'

const BUILTIN_PAIR = /^# 0 "<built-in>"\n#define [^\n]*\n/

/** Whether a gcc compile should (and may) use the preprocessed mode. */
export function wantsPreprocessedMode(inv: CacheableInvocation, args: readonly string[]): boolean {
  return (
    inv.family === 'gcc' &&
    inv.debugLevel === 0 &&
    !inv.recordsCommandLine &&
    !args.some((a) => a.startsWith('-g') && a !== '-g0') &&
    args.some((a) => PEDANTIC.some((re) => re.test(a))) &&
    args.filter((a) => a === inv.source).length === 1
  )
}

const cache = new Map<string, Promise<Buffer | undefined>>()

/** The `<built-in>` block of this compile's `-E -fdirectives-only` output (cached). */
export function gccBuiltins(
  compiler: string,
  inv: CacheableInvocation,
  cwd: string,
  env: Record<string, string>,
): Promise<Buffer | undefined> {
  const at = inv.preprocessorArgs.lastIndexOf(inv.source)
  if (at < 0) return Promise.resolve(undefined)
  const args = [...inv.preprocessorArgs]
  args.splice(at, 1, '-x', inv.language, '/dev/null')
  args.push('-E', '-fdirectives-only')
  const key = JSON.stringify([compiler, cwd, args])
  let hit = cache.get(key)
  if (hit === undefined) {
    hit = new Promise((resolve) => {
      execFile(
        compiler,
        args,
        { cwd, env, encoding: 'buffer', maxBuffer: 64 * 2 ** 20, timeout: 30_000 },
        (err, out) => resolve(err ? undefined : builtinBlock(out)),
      )
    })
    cache.set(key, hit)
  }
  return hit
}

/** The run of `# 0 "<built-in>"` / `#define` pairs after the first line, or undefined. */
export function builtinBlock(text: Buffer): Buffer | undefined {
  const first = text.indexOf(10)
  if (first < 0) return undefined
  let end = first + 1
  const s = text.toString('latin1')
  for (;;) {
    const m = BUILTIN_PAIR.exec(s.slice(end, end + 4096))
    if (m === null) break
    end += m[0].length
  }
  return end > first + 1 ? text.subarray(first + 1, end) : undefined
}

/** The stripped text with the built-in block back after its first line. */
export function withBuiltins(text: Buffer, block: Buffer): Buffer {
  const first = text.indexOf(10)
  return Buffer.concat([text.subarray(0, first + 1), block, text.subarray(first + 1)])
}

/** The text and source argument for the preprocessed mode, or undefined to compile as usual. */
export async function preprocessedModeInput(
  compiler: string,
  inv: CacheableInvocation,
  cwd: string,
  env: Record<string, string>,
  args: readonly string[],
  text: Buffer,
): Promise<{ text: Buffer; sourceArg: number } | undefined> {
  if (!wantsPreprocessedMode(inv, args)) return undefined
  const block = await gccBuiltins(compiler, inv, cwd, env)
  if (block === undefined) return undefined
  return { text: withBuiltins(text, block), sourceArg: args.indexOf(inv.source) }
}
