/**
 * Node flags every daemon process starts with (`node <flags> dist/daemon/main.js`); the native
 * client (`src/wrapper/native/meshcc.c`, `DAEMON_NODE_FLAG`) mirrors them.
 *
 * `--initial-heap-size=128` (MiB): a remote job keeps its buffers and contexts alive for the
 * whole compile, so about a megabyte per job survives young-generation collections. With V8's
 * tight limits for a small heap (~30 MB here) that meant a full mark-compact every one or two
 * jobs, 25–40 ms of CPU each (`node bench/micro/remote-job.ts --daemon-flag=--trace-gc`: 47
 * mark-compacts over a 15-job run against 11 with the flag, none during the jobs). V8 reads it
 * only at start-up (`v8.setFlagsFromString` is too late), hence a command-line flag.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--initial-heap-size=128']
