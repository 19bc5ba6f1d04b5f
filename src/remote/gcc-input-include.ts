/**
 * A gcc job's input behind `-include`, on a builder that starts the compile before the input
 * has come (`early-start`). cc1 reads its whole main file while it processes its options, before
 * it sets up its back end (register allocator tables, target costs, the language's built-ins),
 * so a compile waiting for its main file does all of that only once the text is there: about
 * 4 ms of every job, however small. Given an empty main file and the text as a forced include,
 * cc1 does that set-up while the text is still on its way, and reads the text when it starts
 * parsing. The text's line markers name the real files, and the main file keeps the source's
 * own path, so the object is the same: `DW_AT_name`, `.file`, the line table, `__FILE__` and
 * `__BASE_FILE__` come from those (tests compare objects byte for byte, `-g` included).
 *
 * What does differ is what gcc ties to the main *buffer* rather than to the file a line marker
 * names, so this way is taken only where none of that can show:
 * - options: `-frecord-gcc-switches` (the switches, `-include` among them, go into the object),
 *   macro debug information (`-g3`: it records the include), `-Wunused-macros` (only macros of
 *   the main buffer are checked), `-H`, dumps, `-save-temps`, LTO, coverage and
 *   `-fcompare-debug` (left out for safety);
 * - text ({@link includeSafeText}): `__INCLUDE_LEVEL__` (1 instead of 0), `__TIMESTAMP__`, and
 *   the pragmas `once` and `system_header`, which act differently outside the main file.
 *
 * Diagnostics may differ (an "In file included from <command-line>" line): a compile that
 * prints anything, or fails, is run again the usual way and that result is the job's. So is a
 * job whose text turns out not to be safe.
 *
 * A compile run twice costs a whole compile to save a few milliseconds, so a builder takes this
 * way only while it pays ({@link IncludeGate}): the share of such jobs it has recently had to run
 * again, times the job's expected compile time, must stay below what the way saves.
 */

/** Arguments with which the input never goes behind `-include`. */
const UNSAFE_ARG = [
  /^-frecord-gcc-switches$/,
  /^-g(gdb|dwarf|dwarf-\d|stabs|vms|xcoff)?3$/,
  /^-g3/,
  /^-Wunused-macros$/,
  /^-H$/,
  /^-fdump-/,
  /^-d[A-Za-z]+$/,
  /^-save-temps/,
  /^-flto/,
  /^-ffat-lto/,
  /^--coverage$/,
  /^-fprofile-arcs$/,
  /^-ftest-coverage$/,
  /^-fcompare-debug/,
  /^-aux-info$/,
  /^-fpreprocessed$/,
  /^-include$/,
  /^-imacros$/,
  /^-v$/,
  /^-###$/,
]

/** Whether a job with these arguments may have its input behind `-include`. */
export function includeEligibleArgs(args: readonly string[]): boolean {
  return !args.some((a) => UNSAFE_ARG.some((re) => re.test(a)))
}

const WORDS = ['__INCLUDE_LEVEL__', '__TIMESTAMP__', 'system_header'].map((w) => Buffer.from(w))
/** `#pragma` and `_Pragma`: the word after the first letter. */
const PRAGMA = Buffer.from('ragma')
const ONCE = Buffer.from('once')
/** How far after `pragma` (`#pragma`, `_Pragma("`) its `once` would stand. */
const PRAGMA_REACH = 48

/**
 * Whether the preprocessed text may be compiled behind `-include` (see the module comment).
 * Searches the bytes only: microseconds per megabyte.
 */
export function includeSafeText(text: Uint8Array): boolean {
  const buf = Buffer.from(text.buffer, text.byteOffset, text.byteLength)
  for (const w of WORDS) if (buf.includes(w)) return false
  for (let at = buf.indexOf(PRAGMA); at >= 0; at = buf.indexOf(PRAGMA, at + PRAGMA.length)) {
    const near = buf.subarray(at + PRAGMA.length, at + PRAGMA.length + PRAGMA_REACH)
    const eol = near.indexOf(10)
    if ((eol < 0 ? near : near.subarray(0, eol)).includes(ONCE)) return false
  }
  return true
}

/** What the input behind `-include` saves a job (cc1's back-end set-up), ms. */
export const INCLUDE_SAVES_MS = 4
/** Compile time assumed for a job that comes without an estimate, ms. */
const UNKNOWN_JOB_MS = 50
/** The prior: as if 1 of 20 jobs had been run again (evidence soon outweighs it). */
const PRIOR_RERUNS = 1
const PRIOR_JOBS = 20
/** Weight kept per job recorded: the last ~100 jobs count. */
const DECAY = 0.99

/**
 * A builder's choice, job by job, of whether the input goes behind `-include`: the expected
 * cost of a second compile (the recent share of jobs run again × the job's compile time) must
 * stay below {@link INCLUDE_SAVES_MS}. Tiny units take the way unless most compiles print;
 * units of half a second or more never do, where the saving is under 1 % anyway.
 */
export class IncludeGate {
  #jobs = 0
  #reruns = 0

  /** Whether a job expected to compile in `estimateMs` should take the way. */
  allow(estimateMs: number | undefined): boolean {
    const share = (this.#reruns + PRIOR_RERUNS) / (this.#jobs + PRIOR_JOBS)
    return share * (estimateMs ?? UNKNOWN_JOB_MS) <= INCLUDE_SAVES_MS
  }

  /** A job that took the way, and whether it had to be compiled again. */
  record(ranAgain: boolean): void {
    this.#jobs = this.#jobs * DECAY + 1
    this.#reruns = this.#reruns * DECAY + (ranAgain ? 1 : 0)
  }
}
