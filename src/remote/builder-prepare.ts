/**
 * What a builder does for a job before the job itself arrives: a granted reservation already
 * names the toolchain, so its lookup (is it here, its drivers, its mount table) and a fresh job
 * directory are made while the client still preprocesses, off the job's critical path. The job
 * directories are removed only once the response went out.
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import type { SandboxMount } from '../sandbox/types.ts'
import { removeJobDir } from './job-dir-remove.ts'

/** A toolchain's drivers and mount table, as the builder caches them per toolchain. */
export interface ToolchainEntry {
  drivers: Record<string, string | undefined>
  mounts: SandboxMount[]
}

/** A job's preparation, made at its reservation. */
export interface ReservedJobPrep {
  toolchain: string
  tc: ToolchainEntry
  jobDir: string
}

export interface PrepareSteps {
  has(id: string): boolean | Promise<boolean>
  toolchain(id: string, signal: AbortSignal): Promise<ToolchainEntry>
  workDir: string
}

/**
 * The toolchain `id` looked up and a job directory made; `undefined` when the toolchain is not
 * here (it is fetched once the job arrives) or anything failed: the job then does it all itself.
 */
export async function prepareJob(
  id: string,
  steps: PrepareSteps,
  signal: AbortSignal,
): Promise<ReservedJobPrep | undefined> {
  try {
    if (!(await steps.has(id))) return undefined
    const [tc, jobDir] = await Promise.allSettled([
      steps.toolchain(id, signal),
      newJobDir(steps.workDir),
    ])
    if (tc.status === 'fulfilled' && jobDir.status === 'fulfilled')
      return { toolchain: id, tc: tc.value, jobDir: jobDir.value }
    if (jobDir.status === 'fulfilled') removeJobDir(jobDir.value)
  } catch {}
  return undefined
}

/**
 * A fresh job directory under `workDir` (made on first use, or again if someone removed it).
 * Synchronous: one system call, where the promise API's thread-pool trip sat on the job's path.
 */
export async function newJobDir(workDir: string): Promise<string> {
  try {
    return mkdtempSync(`${workDir}/job-`)
  } catch {
    mkdirSync(workDir, { recursive: true })
    return mkdtempSync(`${workDir}/job-`)
  }
}

/** Removes the job's directories, and a prepared one no job used (after the response). */
export async function cleanUpJob(
  prepared: Promise<ReservedJobPrep | undefined> | undefined,
  dirs: readonly string[],
): Promise<void> {
  const p = await prepared
  if (p !== undefined && !dirs.includes(p.jobDir)) removeJobDir(p.jobDir)
  for (const dir of dirs) removeJobDir(dir)
}
