/**
 * Options that make the driver read a file besides the source and its headers, or read its
 * options from elsewhere: profile data (profile-data.ts), plugins, basic-block section lists,
 * clang `--config` files and `--driver-mode`. Each adds the file to the scan's extra inputs
 * (hashed into the key by the pipeline) when its name can be told from the command line, and
 * makes the compile uncacheable when it cannot (a name found by a library or directory search).
 *
 * @example
 * ```ts
 * scanInputOption(scan, matchOption(['-fbasic-block-sections=list=bb.txt'], 0)!, [arg], 'clang')
 * scan.extraInputs // ['bb.txt']
 * ```
 */
import { keyArgs } from './option-decoders.ts'
import type { MatchedOption } from './option-table.ts'
import { scanProfileOption } from './profile-data.ts'
import type { Scan } from './scan-args.ts'
import type { CompilerFamily } from './types.ts'

/** Records one file-reading option in the scan: its input, its key args, its preprocessor args. */
export function scanInputOption(
  s: Scan,
  m: MatchedOption,
  raw: string[],
  family: CompilerFamily,
): void {
  const arg = raw[0] as string
  const value = m.value as string
  switch (m.spec.role) {
    case 'plugin':
      // gcc looks a name without a slash up in its plugin directory, dlopen in the library path.
      if (!value.includes('/')) s.unsupported ??= `${arg} (a plugin found by a library search)`
      s.extraInputs.push(value)
      s.hashed.push(...keyArgs(m, raw))
      break
    case 'bb-sections':
      if (value.startsWith('list=')) {
        const file = value.slice('list='.length)
        s.extraInputs.push(file)
        s.hashed.push({ kind: 'path', option: '-fbasic-block-sections=list=', path: file })
      } else {
        s.hashed.push({ kind: 'plain', value: arg })
      }
      break
    case 'config':
      if (family !== 'clang') s.unsupported ??= raw.join(' ')
      else if (!value.includes('/')) {
        s.unsupported ??= `${raw.join(' ')} (searched in clang's configuration directories)`
      } else {
        s.configFiles.push(value)
        s.extraInputs.push(value)
      }
      s.hashed.push(...keyArgs(m, raw))
      break
    case 'driver-mode':
      // The mode itself is decided before the scan (parse.ts), from the raw args as clang does.
      if (family !== 'clang') s.unsupported ??= arg
      s.hashed.push({ kind: 'plain', value: arg })
      break
    default:
      scanProfileOption(s, m, family)
      s.hashed.push(...keyArgs(m, raw))
  }
  s.preprocessor.push(...raw)
}
