/*
 * meshcc native client: the per-compile fast path.
 *
 * Every `meshcc gcc -c a.c` (prefix form, CMAKE_<LANG>_COMPILER_LAUNCHER, CCACHE_PREFIX=meshcc)
 * and every masqueraded `gcc`/`g++`/`cc`/`c++`/`clang`/`clang++` symlink runs this program. It
 * must cost far less than a Node start, so it only:
 *   1. resolves the real compiler (PATH search that skips meshcc itself),
 *   2. sends argv, env, cwd, umask and tty flags to the node daemon over
 *      $MESHCC_HOME/run/daemon.sock (wire format: src/protocol/local-wire.ts),
 *   3. replays the daemon's stdout/stderr frames and exit code, or execs the real compiler
 *      itself when told to (EXEC_LOCAL) or when anything goes wrong on meshcc's side.
 * The daemon is started on demand, fully detached (double fork, setsid, every inherited fd
 * closed, stdio on /dev/null) so make and ninja never wait on it.
 *
 * Management commands (`meshcc daemon status`, `meshcc stats`, ...) are handed to the Node CLI
 * (<root>/dist/cli/main.js) run by the project's own Node 24.
 *
 * Never changes the compiler's output bytes or exit code: anything meshcc cannot do, the real
 * compiler does, and the reason goes to $MESHCC_HOME/run/fallbacks.log ("<unix-seconds> <reason>").
 *
 * Never hangs a build on a hung daemon: connecting, sending and every wait for a reply byte are
 * bounded by MESHCC_CLIENT_TIMEOUT seconds (default 20). A healthy daemon sends KEEPALIVE frames
 * while it compiles, so only silence counts. After a timeout the compile runs locally and the
 * clients of this home leave the daemon alone for HUNG_BACKOFF_S (marker run/daemon-hung).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (16u * 1024 * 1024)
#define MAX_OUTPUT_FRAME (1u * 1024 * 1024)
#define MAX_REPLY (512u * 1024 * 1024)
#define MAX_REASON (64u * 1024)
#define FRAME_STDOUT 1
#define FRAME_STDERR 2
#define FRAME_EXIT 3
#define FRAME_EXEC_LOCAL 4
#define FRAME_KEEPALIVE 5
/* Commands the client runs for the daemon (src/protocol/client-run-wire.ts). */
#define FRAME_RUN 6
#define FRAME_RUN_STDOUT 0x11
#define FRAME_RUN_STDERR 0x12
#define FRAME_RUN_EXIT 0x13
#define RUN_NOT_STARTED (-1000)
#define FLAG_CLIENT_RUNS 4u
#define MAX_ARGS 262144u
#define SAFEGUARD_ENV "_MESHCC_SAFEGUARD"
#define MAX_SAFEGUARD 8
#define CONNECT_WAIT_MS 4000
/* After a daemon failed to come up, compiles fall back at once for this long instead of each
 * waiting CONNECT_WAIT_MS again (a broken config must not make every compile 4 s slower). */
#define START_BACKOFF_S 10
/* Silence limit (MESHCC_CLIENT_TIMEOUT, seconds) and the back-off after it was hit; see
 * src/protocol/local-wire.ts, which mirrors these values. */
#define DEFAULT_TIMEOUT_MS 20000
#define MIN_TIMEOUT_MS 100
#define HUNG_BACKOFF_S 60
/* The daemon's Node flag (src/daemon/node-flags.ts mirrors it and says why): a larger initial
 * heap, so the garbage of remote jobs does not cost a full GC every job or two. */
#define DAEMON_NODE_FLAG "--initial-heap-size=128"

extern char **environ;

static struct stat self_st;     /* the meshcc binary, to skip it in PATH searches */
static char self_path[PATH_MAX]; /* filled lazily by self_root() */
static char root[PATH_MAX];
static char home[PATH_MAX];
static int safeguard_level;
static long timeout_ms = DEFAULT_TIMEOUT_MS;

/* ---- small helpers ------------------------------------------------------------------------ */

static int env_is_true(const char *name);

static void die(int code, const char *a, const char *b, const char *c) {
  char line[PATH_MAX * 3 + 64];
  int n = snprintf(line, sizeof line, "meshcc: %s%s%s\n", a, b ? b : "", c ? c : "");
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  if (n > 0 && write(2, line, (size_t)n) < 0) { /* nothing left to tell */ }
  exit(code);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int is_exec_file(const char *path, struct stat *st) {
  return stat(path, st) == 0 && S_ISREG(st->st_mode) && access(path, X_OK) == 0;
}

static int is_self(const struct stat *st) {
  return st->st_dev == self_st.st_dev && st->st_ino == self_st.st_ino;
}

static int join_path(char *out, size_t cap, const char *a, const char *b) {
  int n = snprintf(out, cap, "%s/%s", a, b);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* root = dirname(dirname(realpath(/proc/self/exe))): bin/meshcc lives in <root>/bin. */
static const char *self_root(void) {
  if (root[0]) return root;
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (n <= 0) die(1, "cannot read /proc/self/exe", NULL, NULL);
  self_path[n] = 0;
  strcpy(root, self_path);
  for (int i = 0; i < 2; i++) {
    char *slash = strrchr(root, '/');
    if (!slash) die(1, "unexpected location ", self_path, NULL);
    if (slash == root) slash[1] = 0;
    else *slash = 0;
  }
  return root;
}

/*
 * The home directory of our uid from /etc/passwd, for the rare build run without $HOME. Read by
 * hand rather than with getpwuid(): the client is linked statically (it starts faster), and
 * NSS does not mix with static glibc. Users known only to LDAP and the like get no cache then.
 */
static int passwd_home(char *out, size_t cap) {
  FILE *f = fopen("/etc/passwd", "re");
  if (!f) return -1;
  char line[4096];
  int found = -1;
  while (found != 0 && fgets(line, sizeof line, f)) {
    char *field[7];
    char *p = line;
    int n = 0;
    for (; n < 7 && p; n++) {
      field[n] = p;
      p = strchr(p, ':');
      if (p) *p++ = 0;
    }
    if (n < 6 || strtoul(field[2], NULL, 10) != (unsigned long)getuid()) continue;
    if (strlen(field[5]) < cap && field[5][0] == '/') {
      strcpy(out, field[5]);
      found = 0;
    }
  }
  fclose(f);
  return found;
}

/* $MESHCC_HOME, else $HOME/.meshcc, always absolute (it is handed to the daemon). */
static const char *meshcc_home(void) {
  if (home[0]) return home;
  const char *h = getenv("MESHCC_HOME");
  char buf[PATH_MAX];
  if (!h || !*h) {
    const char *u = getenv("HOME");
    char pwdir[PATH_MAX];
    if (!u || !*u) {
      if (passwd_home(pwdir, sizeof pwdir) != 0) return NULL;
      u = pwdir;
    }
    if (join_path(buf, sizeof buf, u, ".meshcc") != 0) return NULL;
    h = buf;
  }
  if (h[0] == '/') {
    if (strlen(h) >= sizeof home) return NULL;
    strcpy(home, h);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || join_path(home, sizeof home, cwd, h) != 0) return NULL;
  }
  return home;
}

static void mkdir_state(void) {
  char run[PATH_MAX];
  if (mkdir(home, 0700) != 0 && errno != EEXIST) return;
  if (join_path(run, sizeof run, home, "run") == 0 && mkdir(run, 0700) != 0 && errno != EEXIST) {
    return;
  }
}

/* One line per fallback; C's stats recorder ingests them into local_fallbacks. */
static void log_fallback(const char *reason) {
  char path[PATH_MAX], line[256];
  if (!meshcc_home() || join_path(path, sizeof path, home, "run/fallbacks.log") != 0) return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    mkdir_state();
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }
  if (fd < 0) return;
  int n = snprintf(line, sizeof line, "%lld %s\n", (long long)time(NULL), reason);
  if (n > 0 && (size_t)n < sizeof line && write_all(fd, line, (size_t)n) != 0) { /* best effort */ }
  close(fd);
}

/* MESHCC_CLIENT_TIMEOUT in seconds (fractions allowed); anything unparsable keeps the default. */
static void read_timeout(void) {
  const char *t = getenv("MESHCC_CLIENT_TIMEOUT");
  if (!t || !*t) return;
  char *end;
  double s = strtod(t, &end);
  while (*end == ' ' || *end == '\t') end++;
  if (end == t || *end || !(s > 0)) return;
  timeout_ms = s >= 1e6 ? 1000000000L : (long)(s * 1000);
  if (timeout_ms < MIN_TIMEOUT_MS) timeout_ms = MIN_TIMEOUT_MS;
}

/* Whether $MESHCC_HOME/run/<name> was touched less than `seconds` ago. */
static int marker_recent(const char *name, long seconds) {
  char path[PATH_MAX];
  struct stat st;
  if (!meshcc_home()) return 0;
  int n = snprintf(path, sizeof path, "%s/run/%s", home, name);
  if (n <= 0 || (size_t)n >= sizeof path || stat(path, &st) != 0) return 0;
  return time(NULL) - st.st_mtime < seconds;
}

static void touch_marker(const char *name) {
  char path[PATH_MAX];
  if (!meshcc_home()) return;
  int n = snprintf(path, sizeof path, "%s/run/%s", home, name);
  if (n <= 0 || (size_t)n >= sizeof path) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
}

/* ---- the real compiler ------------------------------------------------------------------- */

/* Finds `name` like execvp would, skipping meshcc itself. Returns 0 and an absolute path. */
static int resolve_compiler(const char *name, char *out, size_t cap) {
  struct stat st;
  char cwd[PATH_MAX];
  if (strchr(name, '/')) {
    if (name[0] == '/') {
      if (strlen(name) >= cap) return -1;
      strcpy(out, name);
    } else if (!getcwd(cwd, sizeof cwd) || join_path(out, cap, cwd, name) != 0) {
      return -1;
    }
    if (!is_exec_file(out, &st)) return -1;
    if (is_self(&st)) die(1, name, " is meshcc itself; name the real compiler", NULL);
    return 0;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    char dir[PATH_MAX];
    size_t len = (size_t)(end - p);
    if (len == 0) {
      if (!getcwd(dir, sizeof dir)) goto next;
    } else if (p[0] != '/') {
      char rel[PATH_MAX];
      if (len >= sizeof rel || !getcwd(cwd, sizeof cwd)) goto next;
      memcpy(rel, p, len);
      rel[len] = 0;
      if (join_path(dir, sizeof dir, cwd, rel) != 0) goto next;
    } else {
      if (len >= sizeof dir) goto next;
      memcpy(dir, p, len);
      dir[len] = 0;
    }
    if (join_path(out, cap, dir, name) == 0 && is_exec_file(out, &st) && !is_self(&st)) return 0;
  next:
    if (!*end) break;
    p = end;
  }
  return -1;
}

/* Runs the real compiler in place of meshcc, with argv[0] = its resolved path. */
static void exec_compiler(const char *compiler, char **args, int nargs) {
  char **argv = malloc(sizeof(char *) * ((size_t)nargs + 2));
  if (!argv) die(1, "out of memory", NULL, NULL);
  argv[0] = (char *)compiler;
  memcpy(argv + 1, args, sizeof(char *) * (size_t)nargs);
  argv[nargs + 1] = NULL;
  /* A compiler (or a script named like one) that calls meshcc again runs directly, one level up. */
  char level[16];
  snprintf(level, sizeof level, "%d", safeguard_level + 1);
  setenv(SAFEGUARD_ENV, level, 1);
  execv(compiler, argv);
  die(errno == ENOENT ? 127 : 126, "cannot run ", compiler, "");
}

static void fallback(const char *reason, const char *compiler, char **args, int nargs) {
  log_fallback(reason);
  exec_compiler(compiler, args, nargs);
}

/* ---- Node (CLI and daemon) ---------------------------------------------------------------- */

static const char *find_node(void) {
  static char node[PATH_MAX];
  const char *env = getenv("MESHCC_NODE");
  if (env && *env) return access(env, X_OK) == 0 ? env : NULL;
  char dir[PATH_MAX];
  strcpy(dir, self_root());
  for (;;) {
    struct stat st;
    if (join_path(node, sizeof node, dir, "node_modules/node/bin/node") == 0 &&
        is_exec_file(node, &st)) {
      return node;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) break;
    *slash = 0;
  }
  return NULL;
}

static void node_missing(void) {
  const char *env = getenv("MESHCC_NODE");
  if (env && *env) die(1, "Node 24 not found at MESHCC_NODE=", env, "");
  char line[PATH_MAX * 2 + 64];
  snprintf(line, sizeof line, "%s/node_modules/node/bin/node); run 'npm ci' in %s", root, root);
  die(1, "Node 24 not found (looked for ", line, NULL);
}

static void exec_cli(int argc, char **argv) {
  const char *node = find_node();
  if (!node) node_missing();
  char script[PATH_MAX];
  if (join_path(script, sizeof script, root, "dist/cli/main.js") != 0 || access(script, R_OK) != 0) {
    die(1, "missing ", script, "; run 'npm run build' in the meshcc checkout");
  }
  char **nargv = malloc(sizeof(char *) * ((size_t)argc + 2));
  if (!nargv) die(1, "out of memory", NULL, NULL);
  nargv[0] = (char *)node;
  nargv[1] = script;
  for (int i = 1; i < argc; i++) nargv[i + 1] = argv[i];
  nargv[argc + 1] = NULL;
  execv(node, nargv);
  die(1, "cannot run ", node, "");
}

static void close_inherited_fds(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; fd++) close(fd);
}

/* Starts `<node> <root>/dist/daemon/main.js` fully detached. Returns 0 if the fork went well. */
static int spawn_daemon(void) {
  const char *node = find_node();
  if (!node) return -1;
  char script[PATH_MAX];
  if (join_path(script, sizeof script, root, "dist/daemon/main.js") != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    /* The grandchild: no controlling terminal, no inherited descriptors, no parent to wait on. */
    close_inherited_fds();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      if (null > 2) close(null);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL); /* an ignored SIGCHLD inherited from the build would lose exit codes */
    setenv("MESHCC_HOME", home, 1);
    unsetenv(SAFEGUARD_ENV);
    if (chdir("/") != 0) _exit(1);
    execl(node, node, DAEMON_NODE_FLAG, script, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return 0;
}

/* ---- the daemon connection ---------------------------------------------------------------- */

static int try_connect(const struct sockaddr_un *addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  /* Bounds connect (a daemon whose accept queue is full), send and every read: EAGAIN then. */
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    close(fd);
    return -1;
  }
  while (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Connects, starting the daemon when nobody listens. Only one waiting client spawns it. */
static int connect_daemon(const char **reason) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (!meshcc_home() ||
      join_path(addr.sun_path, sizeof addr.sun_path, home, "run/daemon.sock") != 0) {
    *reason = "socket-path-too-long";
    return -1;
  }
  int fd = try_connect(&addr);
  if (fd >= 0) return fd;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    *reason = "daemon-connect-timeout"; /* it listens but has not accepted for timeout_ms */
    return -1;
  }
  if (errno != ENOENT && errno != ECONNREFUSED) {
    *reason = "daemon-connect-failed";
    return -1;
  }
  self_root();
  if (!find_node()) {
    *reason = "node-missing";
    return -1;
  }
  mkdir_state();
  char marker[PATH_MAX];
  struct stat mst;
  int have_marker = join_path(marker, sizeof marker, home, "run/start-failed") == 0;
  if (have_marker && stat(marker, &mst) == 0 && time(NULL) - mst.st_mtime < START_BACKOFF_S) {
    *reason = "daemon-start-failed-recently";
    return -1;
  }
  char lockpath[PATH_MAX];
  int lock = -1, spawned = 0;
  if (join_path(lockpath, sizeof lockpath, home, "run/spawn.lock") == 0) {
    lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  }
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long wait_us = 2000;
  for (;;) {
    if (!spawned && lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0) {
      /* We hold the spawn lock: start the daemon unless it came up meanwhile. */
      fd = try_connect(&addr);
      if (fd >= 0) break;
      if (spawn_daemon() != 0) {
        *reason = "daemon-spawn-failed";
        break;
      }
      spawned = 1;
    }
    usleep((useconds_t)wait_us);
    if (wait_us < 50000) wait_us *= 2;
    fd = try_connect(&addr);
    if (fd >= 0) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (ms > CONNECT_WAIT_MS) {
      *reason = spawned ? "daemon-start-timeout" : "daemon-unreachable";
      break;
    }
  }
  if (spawned && fd < 0 && have_marker) {
    int m = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m >= 0) close(m);
  }
  if (lock >= 0) close(lock);
  return fd;
}

/* ---- request encoding --------------------------------------------------------------------- */

/* Strict UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF), as the daemon's decoder checks it. */
static int valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return 0;
    }
    i += len;
  }
  return 1;
}

static char *put_u32(char *p, uint32_t v) {
  p[0] = (char)(v & 0xff);
  p[1] = (char)((v >> 8) & 0xff);
  p[2] = (char)((v >> 16) & 0xff);
  p[3] = (char)((v >> 24) & 0xff);
  return p + 4;
}

static char *put_str(char *p, const char *s, size_t n) {
  p = put_u32(p, (uint32_t)n);
  memcpy(p, s, n);
  return p + n;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Builds the MCC1 request. Returns NULL with *reason set when it cannot be sent. */
static char *encode_request(const char *compiler, char **args, int nargs, size_t *outlen,
                            const char **reason) {
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    *reason = "cwd-unavailable";
    return NULL;
  }
  size_t cwdlen = strlen(cwd), complen = strlen(compiler);
  size_t total = 8 + 12 + 4 + cwdlen + 4 + complen + 4 + 4;
  int bad = !valid_utf8((const unsigned char *)cwd, cwdlen);
  for (int i = 0; i < nargs; i++) {
    size_t l = strlen(args[i]);
    total += 4 + l;
    bad |= !valid_utf8((const unsigned char *)args[i], l);
  }
  uint32_t envc = 0;
  for (char **e = environ; *e; e++) {
    size_t l = strlen(*e);
    if (!strchr(*e, '=') || **e == '=') continue;
    total += 4 + l;
    envc++;
    bad |= !valid_utf8((const unsigned char *)*e, l);
  }
  if (bad) {
    *reason = "non-utf8-request";
    return NULL;
  }
  if (total - 8 > MAX_BODY) {
    *reason = "request-too-large";
    return NULL;
  }
  char *buf = malloc(total), *p = buf;
  if (!buf) {
    *reason = "out-of-memory";
    return NULL;
  }
  mode_t mask = umask(0);
  umask(mask);
  /* _MESHCC_NO_CLIENT_RUN=1: the daemon runs its commands itself (for measurements). */
  uint32_t flags = (isatty(1) ? 1u : 0u) | (isatty(2) ? 2u : 0u) |
                   (env_is_true("_MESHCC_NO_CLIENT_RUN") ? 0u : FLAG_CLIENT_RUNS);
  memcpy(p, "MCC1", 4);
  p = put_u32(p + 4, (uint32_t)(total - 8));
  p = put_u32(p, flags);
  p = put_u32(p, (uint32_t)mask);
  p = put_u32(p, (uint32_t)getpid());
  p = put_str(p, cwd, cwdlen);
  p = put_str(p, compiler, complen);
  p = put_u32(p, (uint32_t)nargs);
  for (int i = 0; i < nargs; i++) p = put_str(p, args[i], strlen(args[i]));
  p = put_u32(p, envc);
  for (char **e = environ; *e; e++) {
    if (!strchr(*e, '=') || **e == '=') continue;
    p = put_str(p, *e, strlen(*e));
  }
  *outlen = total;
  return buf;
}

/* ---- commands run for the daemon ------------------------------------------------------------ */

static int send_frame(int fd, int type, const char *data, size_t len) {
  char head[5];
  head[0] = (char)type;
  put_u32(head + 1, (uint32_t)len);
  if (send_all(fd, head, 5) != 0) return -1;
  return len == 0 ? 0 : send_all(fd, data, len);
}

/* Parses a RUN payload into a NULL-terminated argv (pointers into a copy). NULL if malformed. */
static char **parse_run(const unsigned char *p, uint32_t len) {
  if (len < 4) return NULL;
  uint32_t argc = get_u32(p);
  if (argc == 0 || argc > MAX_ARGS || (uint64_t)argc * 4 > (uint64_t)len - 4) return NULL;
  char **argv = malloc(sizeof(char *) * ((size_t)argc + 1));
  char *copy = malloc((size_t)len + argc); /* each string plus its terminating NUL */
  if (!argv || !copy) {
    free(argv);
    free(copy);
    return NULL;
  }
  size_t pos = 4, out = 0;
  for (uint32_t i = 0; i < argc; i++) {
    if (pos + 4 > len) goto bad;
    uint32_t n = get_u32(p + pos);
    pos += 4;
    if (n > len - pos || memchr(p + pos, 0, n)) goto bad;
    memcpy(copy + out, p + pos, n);
    copy[out + n] = 0;
    argv[i] = copy + out;
    out += (size_t)n + 1;
    pos += n;
  }
  if (pos != len || argv[0][0] != '/') goto bad;
  argv[argc] = NULL;
  return argv;
bad:
  free(argv);
  free(copy);
  return NULL;
}

/*
 * Runs argv in our cwd with our environment (plus the recursion guard), stdin from /dev/null,
 * and streams its stdout and stderr to the daemon as RUN_STDOUT/RUN_STDERR frames, then
 * RUN_EXIT. Returns -1 when the daemon connection broke (the caller then compiles locally).
 */
static int run_for_daemon(int fd, char **argv) {
  /* ex: close-on-exec, so it reads EOF when the exec worked and errno when it did not. */
  int out[2] = {-1, -1}, err[2] = {-1, -1}, ex[2] = {-1, -1};
  int32_t status = RUN_NOT_STARTED;
  int broken = 0;
  char level[16];
  static char chunk[256 * 1024];
  struct pollfd pf[2];
  pid_t pid = -1;
  snprintf(level, sizeof level, "%d", safeguard_level + 1);
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(ex, O_CLOEXEC) != 0) {
    goto finish;
  }
  pid = fork();
  if (pid < 0) goto finish;
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0 && dup2(null, 0) >= 0 && dup2(out[1], 1) >= 0 && dup2(err[1], 2) >= 0) {
      setenv(SAFEGUARD_ENV, level, 1);
      execv(argv[0], argv);
    }
    int e = errno;
    if (write(ex[1], &e, sizeof e) < 0) { /* the parent sees EOF: reported as exit 127 */ }
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(ex[1]);
  out[1] = err[1] = ex[1] = -1;
  pf[0] = (struct pollfd){.fd = out[0], .events = POLLIN};
  pf[1] = (struct pollfd){.fd = err[0], .events = POLLIN};
  int open_pipes = 2;
  while (open_pipes > 0) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(pf[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        pf[i].fd = -1;
        open_pipes--;
        continue;
      }
      /* Keep draining after a broken connection, so the program never blocks on a full pipe. */
      if (!broken &&
          send_frame(fd, i == 0 ? FRAME_RUN_STDOUT : FRAME_RUN_STDERR, chunk, (size_t)n) != 0) {
        broken = 1;
      }
    }
  }
  int ws = 0, e = 0;
  while (waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) {
      ws = -1;
      break;
    }
  }
  ssize_t got;
  while ((got = read(ex[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (ws == -1 || got > 0) status = RUN_NOT_STARTED;
  else if (WIFEXITED(ws)) status = WEXITSTATUS(ws);
  else if (WIFSIGNALED(ws)) status = -WTERMSIG(ws);
finish:
  for (int i = 0; i < 2; i++) {
    if (out[i] >= 0) close(out[i]);
    if (err[i] >= 0) close(err[i]);
    if (ex[i] >= 0) close(ex[i]);
  }
  char code[4];
  put_u32(code, (uint32_t)status);
  if (broken || send_frame(fd, FRAME_RUN_EXIT, code, 4) != 0) return -1;
  return 0;
}

/* ---- reply handling ----------------------------------------------------------------------- */

static void exit_like(int32_t code) {
  /* A negative code -N means the compiler died of signal N: die the same way. */
  if (code < 0 && code >= -64) {
    signal(-code, SIG_DFL);
    raise(-code);
    exit(128 - code);
  }
  exit(code & 0xff);
}

/* Writes the buffered output frames of one type, in order. */
static void replay(const unsigned char *buf, size_t end, int type, int fd) {
  for (size_t pos = 0; pos + 5 <= end;) {
    uint32_t len = get_u32(buf + pos + 1);
    if (buf[pos] == type && write_all(fd, (const char *)buf + pos + 5, len) != 0) return;
    pos += 5 + len;
  }
}

/*
 * Reads frames until a final one. Returns 0 after writing output (caller exits with *code),
 * 1 for EXEC_LOCAL, -1 (with *reason) when the daemon broke the conversation.
 */
static int read_reply(int fd, int32_t *code, const char **reason) {
  size_t cap = 64 * 1024, have = 0, parsed = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    *reason = "out-of-memory";
    return -1;
  }
  for (;;) {
    while (parsed + 5 <= have) {
      unsigned type = buf[parsed];
      uint32_t len = get_u32(buf + parsed + 1);
      if ((type == FRAME_STDOUT || type == FRAME_STDERR) && len > MAX_OUTPUT_FRAME) goto garbage;
      if (type == FRAME_EXIT && len != 4) goto garbage;
      if (type == FRAME_EXEC_LOCAL && len > MAX_REASON) goto garbage;
      if (type == FRAME_KEEPALIVE && len != 0) goto garbage;
      if (type == FRAME_RUN && len > MAX_BODY) goto garbage;
      if (type < FRAME_STDOUT || type > FRAME_RUN) goto garbage;
      if (parsed + 5 + len > have) break;
      if (type == FRAME_RUN) {
        char **argv = parse_run(buf + parsed + 5, len);
        if (!argv) goto garbage;
        int ok = run_for_daemon(fd, argv);
        free(argv[0]);
        free(argv);
        if (ok != 0) {
          *reason = "daemon-connection-broken";
          return -1;
        }
        /* Drop the frame: what follows it moves up. */
        memmove(buf + parsed, buf + parsed + 5 + len, have - (parsed + 5 + len));
        have -= 5 + (size_t)len;
        continue;
      }
      if (type == FRAME_EXIT) {
        *code = (int32_t)get_u32(buf + parsed + 5);
        replay(buf, parsed, FRAME_STDOUT, 1);
        replay(buf, parsed, FRAME_STDERR, 2);
        return 0;
      }
      if (type == FRAME_EXEC_LOCAL) return 1;
      if (type == FRAME_KEEPALIVE && parsed + 5 == have) {
        /* Only keepalives since the last output: forget them, or hours of them pile up. */
        have = parsed;
        continue;
      }
      parsed += 5 + len;
    }
    if (have == cap) {
      if (cap >= MAX_REPLY) goto garbage;
      cap *= 2;
      unsigned char *nb = realloc(buf, cap);
      if (!nb) {
        *reason = "out-of-memory";
        return -1;
      }
      buf = nb;
    }
    ssize_t n = read(fd, buf + have, cap - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      *reason = "daemon-timeout"; /* silent for timeout_ms: no reply, no keepalive */
      return -1;
    }
    if (n <= 0) {
      *reason = "daemon-connection-broken";
      return -1;
    }
    have += (size_t)n;
  }
garbage:
  *reason = "daemon-protocol-error";
  return -1;
}

/* ---- main --------------------------------------------------------------------------------- */

static int is_cli_command(const char *a) {
  static const char *const cmds[] = {"join", "peers",     "stats",   "org",     "toolchain",
                                     "doctor", "daemon",  "help",    "version", "cache",
                                     "config", NULL};
  if (a[0] == '-') return 1; /* --help, -h, --version, or a meshcc flag: the CLI judges */
  for (int i = 0; cmds[i]; i++) {
    if (strcmp(a, cmds[i]) == 0) return 1;
  }
  return 0;
}

/* MESHCC_DISABLE takes the same spellings as the daemon's settings (request-settings.ts):
 * 1/true/yes/on disable meshcc here; 0/false/no/off and anything else go to the daemon, which
 * reports an unknown spelling as a configuration fallback instead of guessing. */
static int env_is_true(const char *name) {
  const char *v = getenv(name);
  if (!v) return 0;
  while (*v == ' ' || *v == '\t') v++;
  static const char *const yes[] = {"1", "true", "yes", "on"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    size_t n = strlen(yes[i]);
    if (strncasecmp(v, yes[i], n) == 0) {
      const char *rest = v + n;
      while (*rest == ' ' || *rest == '\t') rest++;
      if (*rest == '\0') return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (stat("/proc/self/exe", &self_st) != 0) die(1, "cannot stat /proc/self/exe", NULL, NULL);
  const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
  base = base ? base + 1 : (argc > 0 ? argv[0] : "meshcc");

  const char *name;
  char **args;
  int nargs;
  if (strncmp(base, "meshcc", 6) == 0) {
    if (argc < 2 || is_cli_command(argv[1])) {
      self_root();
      exec_cli(argc, argv);
    }
    name = argv[1];
    args = argv + 2;
    nargs = argc - 2;
  } else {
    name = base; /* masquerade: a symlink named like the compiler, first on PATH */
    args = argv + 1;
    nargs = argc - 1;
  }

  const char *sg = getenv(SAFEGUARD_ENV);
  safeguard_level = sg ? atoi(sg) : 0;
  if (safeguard_level > MAX_SAFEGUARD) {
    die(1, "compiler recursion: '", name,
        "' keeps invoking meshcc again; put the real compiler first on PATH after the masquerade "
        "directory");
  }
  char compiler[PATH_MAX];
  if (resolve_compiler(name, compiler, sizeof compiler) != 0) {
    die(127, name, strchr(name, '/') ? ": no such compiler" : ": compiler not found on PATH",
        " (meshcc skips itself when searching)");
  }
  if (safeguard_level > 0 || env_is_true("MESHCC_DISABLE")) {
    exec_compiler(compiler, args, nargs);
  }

  read_timeout();
  const char *reason = NULL;
  size_t reqlen = 0;
  char *req = encode_request(compiler, args, nargs, &reqlen, &reason);
  if (!req) fallback(reason, compiler, args, nargs);
  /* A daemon that just timed out on someone is left alone for a while: every compile of a
   * parallel build waiting the full timeout on it would be a hang in all but name. */
  if (marker_recent("daemon-hung", HUNG_BACKOFF_S)) {
    fallback("daemon-hung-recently", compiler, args, nargs);
  }
  int fd = connect_daemon(&reason);
  if (fd >= 0 && send_all(fd, req, reqlen) != 0) {
    reason = errno == EAGAIN || errno == EWOULDBLOCK ? "daemon-timeout" : "daemon-connection-broken";
    close(fd);
    fd = -1;
  }
  free(req);
  int32_t code = 0;
  int r = fd < 0 ? -1 : read_reply(fd, &code, &reason);
  /* Closing tells the daemon we are gone: it aborts the request rather than write outputs. */
  if (fd >= 0) close(fd);
  if (r == 0) exit_like(code);
  if (r == 1) exec_compiler(compiler, args, nargs); /* the daemon counted its reason */
  if (strcmp(reason, "daemon-timeout") == 0 || strcmp(reason, "daemon-connect-timeout") == 0) {
    touch_marker("daemon-hung");
  }
  fallback(reason, compiler, args, nargs);
  return 1;
}
