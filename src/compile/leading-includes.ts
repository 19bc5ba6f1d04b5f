/**
 * The `#include` directives a source file runs before its first token: the only ones gcc may
 * satisfy with a precompiled header (`<name>.gch`) instead of the header text.
 *
 * gcc looks for `<dir>/<name>.gch` beside every candidate header of an include that comes before
 * the main file's first C token, and a used PCH is missing from the depfile (gcc 12 lists neither
 * the `.gch` nor the headers it was built from, even with -fpch-deps). The pipeline therefore
 * probes those `.gch` paths itself (see pch-probe.ts), and needs the names from here.
 *
 * The scan is conservative: blank lines, comments and every directive are skipped; non-directive
 * lines inside an `#if` block are skipped too (they may be excluded text); it stops at the first
 * non-directive line outside any conditional. A computed include (`#include MACRO`) is reported
 * as `computed`, since its name is unknown.
 *
 * @example
 * ```ts
 * scanLeadingIncludes(Buffer.from('#include "pch.h"\n#include <stdio.h>\nint x;\n#include "late.h"\n'))
 * // { names: ['pch.h', 'stdio.h'], quoted: [true, false], computed: false }
 * ```
 */
import { readFileSync } from 'node:fs'
import { sha256Hex } from './key.ts'

export interface LeadingIncludes {
  /** Header names as written between the quotes or angle brackets, in order. */
  names: string[]
  /** Whether each name was written with quotes (searched from the source's directory first). */
  quoted: boolean[]
  /** Some leading include names a macro: its header is unknown. */
  computed: boolean
}

const DIRECTIVE_RE = /^#\s*(\w+)\s*(.*)$/s

/** Splits the text into logical lines: continuations joined, comments replaced by a space. */
function* logicalLines(text: string): Generator<string> {
  let line = ''
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2
    } else if (c === '\\' && text[i + 1] === '\r' && text[i + 2] === '\n') {
      i += 3
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
      line += ' '
    } else if (c === '/' && text[i + 1] === '/') {
      // A line comment ends at the newline (continuations included, handled by the loop).
      while (i < n && text[i] !== '\n') i += text[i] === '\\' && text[i + 1] === '\n' ? 2 : 1
    } else if (c === '"' || c === "'") {
      // A literal may contain comment-like text; copy it through to its end on this line.
      let j = i + 1
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1
      line += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '\n') {
      yield line
      line = ''
      i++
    } else {
      line += c
      i++
    }
  }
  if (line !== '') yield line
}

export function scanLeadingIncludes(data: Uint8Array): LeadingIncludes {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
  const out: LeadingIncludes = { names: [], quoted: [], computed: false }
  let depth = 0
  for (const raw of logicalLines(text)) {
    const line = raw.trim()
    if (line === '') continue
    const m = DIRECTIVE_RE.exec(line)
    if (m === null) {
      if (depth > 0) continue
      break
    }
    const name = m[1] ?? ''
    const rest = (m[2] ?? '').trim()
    if (name === 'if' || name === 'ifdef' || name === 'ifndef') depth++
    else if (name === 'endif') depth = Math.max(0, depth - 1)
    else if (name === 'include' || name === 'include_next' || name === 'import') {
      const open = rest[0]
      const close = open === '"' ? '"' : open === '<' ? '>' : undefined
      const end = close === undefined ? -1 : rest.indexOf(close, 1)
      if (end > 1) {
        out.names.push(Buffer.from(rest.slice(1, end), 'latin1').toString('utf8'))
        out.quoted.push(open === '"')
      } else out.computed = true
    }
  }
  return out
}

/** Sources whose leading includes are remembered (a few hundred bytes each). */
const LEADING_CACHE_MAX = 20_000

/**
 * The leading includes of the source at `path`, cached by content hash in `cache`. Undefined
 * when the file no longer has the content that was hashed (it is being written).
 */
export function cachedLeadingIncludes(
  cache: Map<string, LeadingIncludes>,
  path: string,
  hash: string,
): LeadingIncludes | undefined {
  const known = cache.get(hash)
  if (known !== undefined) return known
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch {
    return undefined
  }
  if (sha256Hex(data) !== hash) return undefined
  const scanned = scanLeadingIncludes(data)
  cache.set(hash, scanned)
  if (cache.size > LEADING_CACHE_MAX) {
    const oldest = cache.keys().next()
    if (oldest.done !== true) cache.delete(oldest.value)
  }
  return scanned
}
