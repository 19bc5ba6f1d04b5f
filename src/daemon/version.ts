/**
 * meshcc's version, read once from the package's own `package.json` (two levels up from both
 * `src/daemon/` and `dist/daemon/`), so there is a single source of truth.
 */
import { readFileSync } from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export const meshccVersion: string = readVersion()
