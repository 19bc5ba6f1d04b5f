/** The plain compiler: the baseline every ratio divides by. */
import { cleanEnv, type ToolSession } from './types.ts'

export function openPlain(): ToolSession {
  return {
    tool: 'gcc',
    label: 'gcc (plain)',
    env: cleanEnv(),
    prefix: [],
    outsideCpu: async () => 0,
    counters: async () => null,
    close: async () => {},
  }
}
