/**
 * Renders a peers snapshot into the lines of a `width × height` screen, in the spirit of `top`
 * and icemon: a summary line (this node, members, cores, jobs), an inverse column header, one row
 * per member sorted by host, and an optional status line at the bottom.
 *
 * Narrow screens drop the least useful columns first (toolchains, queue, platform, …) and then
 * shorten the host column with an ellipsis; every line fits `width` columns. Tall member lists end
 * with "… N more". Pure: the caller passes the clock and whether to colour.
 *
 * @example
 * ```ts
 * const lines = renderPeersView(snapshot, { width: 80, height: 24, now: Date.now(), color: false })
 * ```
 */
import { styleText } from 'node:util'
import { type PeerRow, peerRows, peerTotals } from './peer-rows.ts'
import { clean, displayWidth, fit, truncate } from './text-cell.ts'
import type { PeersSnapshot } from './types.ts'

export interface PeersViewOptions {
  width: number
  /** Lines available; omit for no limit (one-shot output to a pipe). */
  height?: number
  /** Unix ms, for certificate expiry and the clock in the summary line. */
  now: number
  color: boolean
  /** Bottom line, e.g. key help or the last error; omitted when undefined. */
  status?: string
}

type Key =
  | 'host'
  | 'platform'
  | 'cores'
  | 'free'
  | 'load'
  | 'jobs'
  | 'queued'
  | 'rtt'
  | 'cert'
  | 'toolchains'

interface Column {
  key: Key
  title: string
  align: 'left' | 'right'
  /** Lower is kept longer when the screen is narrow. */
  priority: number
  /** Flexible columns shrink to `min` (with an ellipsis) before anything is dropped. */
  min?: number
}

/** Display order; the last column takes whatever width is left. */
const COLUMNS: readonly Column[] = [
  { key: 'host', title: 'HOST', align: 'left', priority: 0, min: 8 },
  { key: 'platform', title: 'PLATFORM', align: 'left', priority: 6 },
  { key: 'cores', title: 'USED', align: 'right', priority: 1 },
  { key: 'free', title: 'FREE', align: 'right', priority: 2 },
  { key: 'load', title: 'LOAD', align: 'right', priority: 3 },
  { key: 'jobs', title: 'JOBS', align: 'right', priority: 4 },
  { key: 'queued', title: 'QUEUE', align: 'right', priority: 8 },
  { key: 'rtt', title: 'RTT', align: 'right', priority: 7 },
  { key: 'cert', title: 'CERT', align: 'right', priority: 5 },
  { key: 'toolchains', title: 'TOOLCHAINS', align: 'left', priority: 9, min: 12 },
]

/** Width each flexible column reaches before either grows further. */
const FLEX_COMFORT = 24

/** Self marker column (`*`) plus its gap. */
const MARK = 2

interface Layout {
  columns: Column[]
  widths: number[]
  gap: number
}

function layout(rows: readonly PeerRow[], width: number): Layout {
  const natural = (c: Column) =>
    Math.max(displayWidth(c.title), ...rows.map((r) => displayWidth(r[c.key])))
  const least = (c: Column) => Math.min(natural(c), c.min ?? Number.POSITIVE_INFINITY)
  const total = (cols: readonly Column[], w: (c: Column) => number, gap: number) =>
    MARK + cols.reduce((s, c) => s + w(c), 0) + gap * (cols.length - 1)
  const columns = [...COLUMNS]
  while (columns.length > 1 && total(columns, least, 1) > width) {
    const drop = columns.reduce((a, b) => (b.priority > a.priority ? b : a))
    columns.splice(columns.indexOf(drop), 1)
  }
  const gap = total(columns, least, 2) <= width ? 2 : 1
  const widths = columns.map(least)
  let spare = width - total(columns, least, gap)
  // Flexible columns grow back towards their natural width: each to a sensible width first, then
  // toolchains (the last column) all the way, then host with what is left.
  const grow = (i: number, to: number) => {
    const by = Math.max(0, Math.min(spare, to - widths[i]!))
    widths[i]! += by
    spare -= by
  }
  const flex = columns.flatMap((c, i) => (c.min === undefined ? [] : [[i, natural(c)] as const]))
  for (const [i, to] of flex) grow(i, Math.min(to, FLEX_COMFORT))
  for (const [i, to] of flex.toReversed()) grow(i, to)
  if (spare < 0) widths[0] = Math.max(1, widths[0]! + spare)
  return { columns, widths, gap }
}

function style(on: boolean, format: Parameters<typeof styleText>[0], text: string): string {
  return on && text !== '' ? styleText(format, text, { validateStream: false }) : text
}

/** Joins with ` · ` the segments that fit, in order, skipping those that do not. */
function fitSegments(segments: readonly string[], width: number): string {
  let line = ''
  for (const s of segments) {
    const next = line === '' ? s : `${line} · ${s}`
    if (displayWidth(next) <= width) line = next
  }
  return truncate(line === '' ? (segments[0] ?? '') : line, width)
}

function clock(now: number): string {
  return new Date(now).toTimeString().slice(0, 8)
}

/** The screen's lines, each at most `width` columns wide (not counting colour codes). */
export function renderPeersView(snapshot: PeersSnapshot, opts: PeersViewOptions): string[] {
  const width = Math.max(1, Math.floor(opts.width))
  const { color } = opts
  const rows = peerRows(snapshot, opts.now)
  const t = peerTotals(snapshot)
  const self = rows.find((r) => r.self)
  const summary = fitSegments(
    [
      'meshcc peers',
      self?.host ?? '?',
      `${t.members} member${t.members === 1 ? '' : 's'}`,
      `cores ${t.used}/${t.cores} used, ${t.free} free`,
      `${t.running} running, ${t.queued} queued`,
      clock(opts.now),
    ],
    width,
  )
  const { columns, widths, gap } = layout(rows, width)
  const join = (cells: string[]) => cells.join(' '.repeat(gap))
  const header = ' '.repeat(MARK) + join(columns.map((c, i) => fit(c.title, widths[i]!, c.align)))

  const lines = [style(color, 'bold', truncate(summary, width))]
  // In colour the header is a full-width bar, as in `top`; plain, it has no trailing blanks.
  lines.push(
    color ? style(color, 'inverse', fit(header, width)) : truncate(header.trimEnd(), width),
  )
  const body = rows.map((r) => {
    const plain = `${r.self ? '*' : ' '} ${join(columns.map((c, i) => fit(r[c.key], widths[i]!, c.align)))}`
    // Only a screen narrower than the marker and a one-letter host gets here.
    if (displayWidth(plain.trimEnd()) > width) return truncate(plain.trimEnd(), width)
    const cells = columns.map((c, i) => {
      const cell = fit(r[c.key], widths[i]!, c.align)
      if (c.key !== 'cert' || r.stale) return cell
      if (r.certLevel === 'alarm') return style(color, ['red', 'bold'], cell)
      return r.certLevel === 'warn' ? style(color, 'yellow', cell) : cell
    })
    const line = `${r.self ? '*' : ' '} ${join(cells)}`.trimEnd()
    return r.stale ? style(color, 'dim', line) : r.self ? style(color, 'bold', line) : line
  })
  if (snapshot.peers.length === 0) {
    body.push(
      style(
        color,
        'dim',
        truncate('  no other members yet: add one with `meshcc org invite`', width),
      ),
    )
  }
  const status =
    opts.status === undefined ? [] : [style(color, 'dim', truncate(clean(opts.status), width))]
  const room =
    opts.height === undefined ? body.length : Math.max(0, opts.height - 2 - status.length)
  if (body.length > room) {
    const shown = Math.max(0, room - 1)
    const more = `  … ${body.length - shown} more`
    body.splice(shown, body.length - shown, ...(room > 0 ? [truncate(more, width)] : []))
  }
  const all = [...lines, ...body, ...status]
  return opts.height === undefined ? all : all.slice(0, Math.max(0, opts.height))
}
