/**
 * Terminal-safe text cells: cleaning, display width, truncation with an ellipsis and padding.
 *
 * Everything a peer advertises (host name, toolchains, platform) ends up on the user's terminal,
 * and a member is trusted to compile, not to drive the terminal: {@link clean} removes control
 * characters (C0, DEL, C1, so no escape sequence can pass) and bidirectional overrides before
 * anything is measured or printed. Widths count code points, with wide East Asian characters and
 * emoji as two columns and combining marks as none, which is what terminals do for the common
 * cases without a width table.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
const COMBINING = /^(?:\p{Mn}|\p{Me})$/u
const WIDE =
  /^[\p{Extended_Pictographic}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]$/u

export const ELLIPSIS = '…'

/** Replaces characters that could move the cursor or restyle the terminal with `?`. */
export function clean(text: string): string {
  return text.replace(CONTROL, '?')
}

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0
  // Combining marks, zero-width space/joiners and variation selectors take no column.
  if ((cp >= 0x200b && cp <= 0x200d) || cp === 0xfe0e || cp === 0xfe0f || COMBINING.test(ch)) {
    return 0
  }
  return WIDE.test(ch) ? 2 : 1
}

/** Columns `text` takes on a terminal (`text` already {@link clean}ed). */
export function displayWidth(text: string): number {
  let w = 0
  for (const ch of text) w += charWidth(ch)
  return w
}

/** Cuts `text` to at most `width` columns, ending with `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return ''
  if (displayWidth(text) <= width) return text
  let out = ''
  let w = 0
  for (const ch of text) {
    const cw = charWidth(ch)
    if (w + cw > width - 1) break
    out += ch
    w += cw
  }
  return out + ELLIPSIS
}

/** Truncates or pads `text` to exactly `width` columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(text, width)
  const pad = ' '.repeat(Math.max(0, width - displayWidth(t)))
  return align === 'left' ? t + pad : pad + t
}
