/**
 * The translation units of the per-job figures, the same for every tool:
 * - `tiny.c`: a one-line function, so that the job's fixed cost (connection, placement, transfer,
 *   builder start-up) is nearly all there is;
 * - zstd `programs/benchzstd.c` with the flags of zstd's Makefile (the unit of the cache-hit
 *   suite: ~135 headers, ~250 ms at -O3 here), a real C job;
 * - yaml-cpp `src/node_data.cpp` at -O2 -std=c++11 (as yaml-cpp's CMake build compiles it), a
 *   real C++ job with the libstdc++ headers behind it.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hitUnit } from '../lib/zstd-workload.ts'

export interface Unit {
  id: string
  title: string
  /** Directory to compile in. */
  cwd: string
  /** The compile without its tool prefix, writing `out`. */
  argv(out: string): string[]
}

export async function perJobUnits(
  scratch: string,
  zstdTree: string,
  yamlTree: string,
): Promise<Unit[]> {
  await writeFile(join(scratch, 'tiny.c'), 'int tiny(int x) { return x * 3 + 1; }\n')
  return [
    {
      id: 'tiny',
      title: 'tiny.c (one function, -O2)',
      cwd: scratch,
      argv: (out) => ['gcc', '-O2', '-c', 'tiny.c', '-o', out],
    },
    {
      id: 'zstd',
      title: 'zstd programs/benchzstd.c (-O3, -MMD -MP)',
      cwd: join(zstdTree, hitUnit.dir),
      argv: (out) => [
        'gcc',
        ...hitUnit.flags,
        '-c',
        '-MT',
        'obj/benchzstd.o',
        '-MMD',
        '-MP',
        '-MF',
        `${out}.d`,
        '-o',
        out,
        hitUnit.source,
      ],
    },
    {
      id: 'yaml',
      title: 'yaml-cpp src/node_data.cpp (C++, -O2 -std=c++11)',
      cwd: yamlTree,
      argv: (out) => [
        'g++',
        '-O2',
        '-DNDEBUG',
        '-std=c++11',
        '-Iinclude',
        '-c',
        'src/node_data.cpp',
        '-o',
        out,
      ],
    },
  ]
}
