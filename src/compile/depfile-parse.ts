/**
 * Parsing of Makefile dependency files as gcc and clang write them (`-MD`, `-MMD`, `-M`).
 *
 * Handles GNU make's escapes the compilers emit: `\ ` (2N+1 backslashes before a space or tab
 * are N backslashes and a literal blank, 2N are N backslashes and a separator), `\#`, `$$`,
 * backslash-newline continuations, several targets before the colon, and the phony rules `-MP`
 * adds (`header.h:` with no prerequisites), which are reported separately so a replay can
 * reproduce them for exactly the same files.
 *
 * @example
 * ```ts
 * const dep = parseDepfile('a.o: a.c inc/my\\ file.h\ninc/my\\ file.h:\n')
 * dep.targets // ['a.o'];  dep.prereqs // ['a.c', 'inc/my file.h'];  dep.phony // ['inc/my file.h']
 * ```
 */

export interface ParsedDepfile {
  /** Targets of the first rule (unescaped). */
  targets: string[]
  /** Prerequisites of the first rule, in order (unescaped). */
  prereqs: string[]
  /** Targets of later rules that have no prerequisites (the -MP phony rules). */
  phony: string[]
}

interface Rule {
  targets: string[]
  prereqs: string[]
}

export function parseDepfile(text: string): ParsedDepfile {
  const rules: Rule[] = []
  let rule: Rule = { targets: [], prereqs: [] }
  let inPrereqs = false
  let token = ''
  let hasToken = false
  const endToken = () => {
    if (hasToken) (inPrereqs ? rule.prereqs : rule.targets).push(token)
    token = ''
    hasToken = false
  }
  const endRule = () => {
    endToken()
    if (rule.targets.length > 0 || rule.prereqs.length > 0) rules.push(rule)
    rule = { targets: [], prereqs: [] }
    inPrereqs = false
  }
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text[i] as string
    if (c === '\\') {
      let j = i
      while (j < n && text[j] === '\\') j++
      const count = j - i
      const next = text[j]
      if (next === '\n' || (next === '\r' && text[j + 1] === '\n')) {
        // Continuation: the last backslash joins lines; earlier ones are literal.
        token += '\\'.repeat(count - 1)
        if (count > 1) hasToken = true
        endToken()
        i = j + (next === '\r' ? 2 : 1)
        continue
      }
      if (next === ' ' || next === '\t') {
        token += '\\'.repeat(count >> 1)
        hasToken = true
        if (count % 2 === 1) {
          token += next
          i = j + 1
        } else {
          i = j
        }
        continue
      }
      if (next === '#' && count === 1) {
        token += '#'
        hasToken = true
        i = j + 1
        continue
      }
      token += '\\'.repeat(count)
      hasToken = true
      i = j
      continue
    }
    if (c === '$' && text[i + 1] === '$') {
      token += '$'
      hasToken = true
      i += 2
      continue
    }
    if (c === '\n' || c === '\r') {
      endRule()
      i++
      continue
    }
    if (c === ' ' || c === '\t') {
      endToken()
      i++
      continue
    }
    if (c === ':' && !inPrereqs) {
      const next = text[i + 1]
      if (next === undefined || next === ' ' || next === '\t' || next === '\n' || next === '\r') {
        endToken()
        inPrereqs = true
        i++
        continue
      }
    }
    token += c
    hasToken = true
    i++
  }
  endRule()
  const first = rules[0] ?? { targets: [], prereqs: [] }
  const phony: string[] = []
  for (const r of rules.slice(1)) if (r.prereqs.length === 0) phony.push(...r.targets)
  return { targets: first.targets, prereqs: first.prereqs, phony }
}
