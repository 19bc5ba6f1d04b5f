/**
 * The compile sandbox: run one program isolated from the builder's machine (`runSandboxed`),
 * find out whether this machine can (`probeSandbox`), and build mount tables for toolchains.
 */
export { readJobOutput } from './collect-output.ts'
export { sandboxCheck } from './doctor-check.ts'
export { helperArgs } from './helper-args.ts'
export { sandboxHelperPath } from './helper-path.ts'
export { probeSandbox, type SandboxProbe } from './probe.ts'
export { runSandboxed } from './run-sandboxed.ts'
export { systemToolchainMounts, toolchainMounts } from './toolchain-mounts.ts'
export * from './types.ts'
