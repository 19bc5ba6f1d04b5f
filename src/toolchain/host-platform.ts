/**
 * The platform string of this machine (`linux-x86_64`, `linux-aarch64`): where a toolchain runs.
 * Architecture names follow `uname -m`, as target triples do.
 */
const ARCH: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ia32: 'i686',
  arm: 'armv7l',
  riscv64: 'riscv64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  loong64: 'loongarch64',
}

export function hostPlatform(
  platform: string = process.platform,
  arch: string = process.arch,
): string {
  return `${platform === 'darwin' ? 'macos' : platform === 'win32' ? 'windows' : platform}-${ARCH[arch] ?? arch}`
}
