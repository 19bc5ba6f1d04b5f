/**
 * Where the native sandbox helper lives: `native-sandbox/meshcc-sandbox` in the package (built by
 * `scripts/build.mjs`), or `MESHCC_SANDBOX_HELPER` (tests and packagers point it elsewhere).
 */
import { fileURLToPath } from 'node:url'

/** The package root: two levels above `dist/sandbox/` (or `src/sandbox/`). */
const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

export function sandboxHelperPath(env: NodeJS.ProcessEnv = process.env): string {
  return env['MESHCC_SANDBOX_HELPER'] || `${root}/native-sandbox/meshcc-sandbox`
}
