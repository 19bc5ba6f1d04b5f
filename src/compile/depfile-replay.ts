/**
 * Regeneration of a dependency file, byte for byte as gcc or clang would write it, for the
 * targets the current invocation asked for (`-MT`, `-MQ`, or the default: its output path).
 *
 * The two compilers differ in details a build never notices but a byte comparison does:
 * - gcc (libcpp mkdeps): unquoted `-MT` targets are moved before quoted ones, lines wrap at
 *   column 72 with `" \\\n "`, phony rules follow directly (`h.h:`);
 * - clang: targets in command-line order, wrap at 75 columns with `" \\\n  "` for targets and
 *   `" \\\n "` for prerequisites, a blank line before each phony rule.
 * Both quote targets and prerequisites the same GNU make way (`$` → `$$`, `#` → `\#`, blanks
 * escaped together with the backslashes before them).
 *
 * The pipeline checks this formatter against the compiler's own file on every miss and only
 * regenerates when the check passed (else it replays the stored bytes or recompiles).
 *
 * @example
 * ```ts
 * formatDepfile('gcc', [{ name: 'a.o', quoted: true }], { prereqs: ['a.c', 'a.h'], phony: [] })
 * // 'a.o: a.c a.h\n'
 * ```
 */
import type { CompilerFamily } from '../compilers/types.ts'

export interface DepTarget {
  name: string
  /** -MQ (and the default target) are quoted; -MT is used as written. */
  quoted: boolean
}

export interface DepList {
  prereqs: readonly string[]
  /** Prerequisites that get an -MP phony rule, in the order they appear. */
  phony: readonly string[]
}

/** GNU make quoting as gcc's `munge` and clang's `QuoteTarget`/`PrintFilename` do it. */
export function makeQuote(name: string): string {
  let out = ''
  let slashes = 0
  for (const c of name) {
    if (c === '\\') {
      slashes++
      out += c
      continue
    }
    if (c === ' ' || c === '\t') out += `${'\\'.repeat(slashes)}\\`
    else if (c === '$') out += '$'
    else if (c === '#') out += '\\'
    slashes = 0
    out += c
  }
  return out
}

/** The default target of -MD/-MMD when neither -MT nor -MQ was given: the object, quoted. */
export function effectiveTargets(targets: readonly DepTarget[], output: string): DepTarget[] {
  return targets.length > 0 ? [...targets] : [{ name: output, quoted: true }]
}

export function formatDepfile(
  family: CompilerFamily,
  targets: readonly DepTarget[],
  deps: DepList,
): string {
  return family === 'gcc' ? formatGcc(targets, deps) : formatClang(targets, deps)
}

function gccTargetOrder(targets: readonly DepTarget[]): DepTarget[] {
  // The gcc driver hands cc1 every -MQ before every -MT (spec `%{MQ*} %{MT*}`); libcpp's
  // deps_add_target then swaps each unquoted target with the lowest quoted one.
  const ordered = [...targets.filter((t) => t.quoted), ...targets.filter((t) => !t.quoted)]
  const out: DepTarget[] = []
  let lwm = 0
  for (const target of ordered) {
    let t = target
    if (!t.quoted) {
      if (lwm !== out.length) {
        const lowest = out[lwm] as DepTarget
        out[lwm] = t
        t = lowest
      }
      lwm++
    }
    out.push(t)
  }
  return out
}

function formatGcc(targets: readonly DepTarget[], deps: DepList): string {
  const max = 72
  let out = ''
  let col = 0
  const write = (name: string) => {
    if (col !== 0) {
      if (col + name.length > max) {
        out += ' \\\n'
        col = 0
      }
      col++
      out += ' '
    }
    col += name.length
    out += name
  }
  for (const t of gccTargetOrder(targets)) write(t.quoted ? makeQuote(t.name) : t.name)
  out += ':'
  col++
  for (const p of deps.prereqs) write(makeQuote(p))
  out += '\n'
  for (const p of deps.phony) out += `${makeQuote(p)}:\n`
  return out
}

function formatClang(targets: readonly DepTarget[], deps: DepList): string {
  const max = 75
  let out = ''
  let col = 0
  for (const t of targets) {
    const name = t.quoted ? makeQuote(t.name) : t.name
    const n = name.length
    if (col === 0) col += n
    else if (col + n + 2 > max) {
      col = n + 2
      out += ' \\\n  '
    } else {
      col += n + 1
      out += ' '
    }
    out += name
  }
  out += ':'
  col += 1
  for (const p of deps.prereqs) {
    const n = p.length
    if (col + (n + 1) + 2 > max) {
      out += ' \\\n '
      col = 2
    }
    out += ` ${makeQuote(p)}`
    col += n + 1
  }
  out += '\n'
  for (const p of deps.phony) out += `\n${makeQuote(p)}:\n`
  return out
}

/**
 * The depfile as bytes. Prerequisites are binary strings (the file parsed as latin1, so column
 * counts are byte counts like the compilers'); target names come from the command line and are
 * encoded as UTF-8 first.
 */
export function formatDepfileBytes(
  family: CompilerFamily,
  targets: readonly DepTarget[],
  deps: DepList,
): Buffer {
  const binary = targets.map((t) => ({
    name: Buffer.from(t.name, 'utf8').toString('latin1'),
    quoted: t.quoted,
  }))
  return Buffer.from(formatDepfile(family, binary, deps), 'latin1')
}
