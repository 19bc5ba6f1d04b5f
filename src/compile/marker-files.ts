/**
 * The files a preprocessor run entered, from the line markers of its output (`# 12 "path"
 * flags`): the header list of a compile whose depfile does not name them all (`-MMD`), without a
 * separate dependency pass. Same rules as `digestPreprocessed` (`preprocessor-key.ts`), without
 * rewriting the text: pseudo-files (`<built-in>`, `<command-line>`) and gcc's working-directory
 * marker (`"/cwd//"`) are left out, each file is named once, in order of first appearance.
 *
 * @example
 * ```ts
 * markerFiles(Buffer.from('# 1 "a.c"\n# 1 "/usr/include/stdio.h" 1 3 4\n')) // ['a.c', '/usr/include/stdio.h']
 * ```
 */

const MARKER_RE = /^# \d+ "((?:[^"\\\n]|\\.)*)"/

/** Scans the bytes for marker lines: no string of the whole text (large ones cost full GCs). */
export function markerFiles(text: Uint8Array): string[] {
  const buf = Buffer.from(text.buffer, text.byteOffset, text.byteLength)
  const seen = new Set<string>()
  const files: string[] = []
  const take = (start: number) => {
    // `# <digit>`: other directives (`#define`, kept by -fdirectives-only) are not decoded.
    const digit = buf[start + 2] ?? 0
    if (buf[start + 1] !== 0x20 || digit < 0x30 || digit > 0x39) return
    const nl = buf.indexOf(10, start)
    const m = MARKER_RE.exec(buf.toString('latin1', start, nl < 0 ? buf.length : nl))
    if (m === null) return
    const quoted = m[1] as string
    if (seen.has(quoted)) return
    seen.add(quoted)
    const name = Buffer.from(quoted.replace(/\\(.)/g, '$1'), 'latin1').toString('utf8')
    if (!name.startsWith('<') && !name.endsWith('//')) files.push(name)
  }
  if (buf[0] === 0x23 /* # */) take(0)
  for (let at = buf.indexOf('\n#'); at >= 0; at = buf.indexOf('\n#', at + 2)) take(at + 1)
  return files
}
