/**
 * Parses short durations as typed on the command line: `90s`, `15m`, `1h`, `7d`, or plain
 * seconds. Returns seconds, or undefined when the text is not a positive duration.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})([smhdw]?)$/.exec(text.trim())
  if (match === null) return undefined
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] as number)
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined
}
