/**
 * distcc, icecream and bubblewrap (sccache-dist's sandbox) from Debian's packages, installed
 * without starting their packaged daemons: icecream's would broadcast on every interface of the
 * machine and distccd would listen on it. While apt runs, a `policy-rc.d` that exits 101 forbids every service start
 * (unless the machine already has one, which is then left as it is).
 */
import { existsSync } from 'node:fs'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { ensurePackages } from '../lib/system.ts'

/** bubblewrap: sccache-dist's servers run every job in a bwrap sandbox. */
export const distributedPackages = [
  'distcc',
  'icecc',
  'bubblewrap',
  'cmake',
  'hyperfine',
  'time',
  'iproute2',
]

const policy = '/usr/sbin/policy-rc.d'

export async function ensureDistributedPackages({
  signal,
  log,
}: {
  signal?: AbortSignal
  log: (s: string) => void
}): Promise<void> {
  const ours = !existsSync(policy)
  if (ours) {
    await writeFile(
      policy,
      '#!/bin/sh\n# meshcc bench: no service starts during install\nexit 101\n',
    )
    await chmod(policy, 0o755)
  }
  try {
    await ensurePackages(distributedPackages, { ...(signal ? { signal } : {}), log })
  } finally {
    if (ours) await rm(policy, { force: true })
  }
}
