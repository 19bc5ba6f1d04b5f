/*
 * PID 1 of the sandbox: builds the new root from the mount table, then forks the payload and
 * reaps every process until the payload exits (the kernel then kills whatever is left).
 *
 * Sources are opened with open_tree(OPEN_TREE_CLONE) while the host's root is still visible,
 * so host symlinks resolve as on the host; the new root is a small tmpfs into which the
 * detached mounts are moved after pivot_root, so destination paths resolve only inside the
 * sandbox (a symlink in a toolchain tree cannot send a mount outside it).
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

/* Same layout as the kernel's struct mount_attr (named apart to avoid header clashes). */
struct mnt_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#define ATTR_RDONLY 0x1
#define ATTR_NOSUID 0x2
#define ATTR_NODEV 0x4
#define ATTR_NOEXEC 0x8

static const char *const devices[] = {"null", "zero", "full", "random", "urandom"};
#define NDEV (sizeof devices / sizeof *devices)

void child_fail(const struct config *cfg, const char *fmt, ...)
{
	int saved = errno;
	char msg[480], line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int n = snprintf(line, sizeof line, "E %s: %s\n", msg, strerror(saved));
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1, line[n - 1] = '\n';
	if (write(cfg->result_fd, line, (size_t)n) < 0) {
		/* nothing left to tell */
	}
	_exit(125);
}

static int clone_tree(const char *path, uint64_t attrs)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return -1;
	struct mnt_attr a = {.attr_set = attrs};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* mkdir -p inside the new root; existing components are fine. */
static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			int r = mkdir(path, mode);
			*p = c;
			if (r < 0 && errno != EEXIST)
				return -1;
			if (!c)
				return 0;
		}
	}
}

static int mkdir_parent(const char *dst)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", dst) >= (int)sizeof buf)
		return errno = ENAMETOOLONG, -1;
	char *slash = strrchr(buf, '/');
	if (slash == buf)
		return 0;
	*slash = '\0';
	return mkdir_p(buf, 0755);
}

static int attach(int fd, const char *dst, int is_dir)
{
	if (mkdir_parent(dst) < 0)
		return -1;
	if (is_dir) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return -1;
	} else {
		int f = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0 && errno != EEXIST)
			return -1;
		if (f >= 0)
			close(f);
	}
	return (int)syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH);
}

static int mount_tmpfs(const char *dst, unsigned long long size, const char *mode)
{
	char opts[128];
	snprintf(opts, sizeof opts, "size=%llu,mode=%s", size, mode);
	return mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts);
}

static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	syscall(SYS_capset, &h, d);
}

/* Keeps the namespace capabilities across setresuid (they would be cleared when leaving 0). */
static int become_build_id(const struct config *cfg)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		return -1;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	return (int)syscall(SYS_capset, &h, d);
}

static void payload(struct config *cfg) __attribute__((noreturn));
static void payload(struct config *cfg)
{
	for (int s = 1; s < 65; s++)
		signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0) /* no controlling terminal: TIOCSTI cannot reach the builder's tty */
		child_fail(cfg, "setsid");
	if (apply_rlimits(cfg) < 0)
		child_fail(cfg, "setrlimit");
	umask(022);
	if (chdir(cfg->cwd) < 0)
		child_fail(cfg, "chdir %s", cfg->cwd);
	if (drop_privileges(cfg) < 0)
		child_fail(cfg, "dropping privileges");
	if (reset_environment(cfg) < 0)
		child_fail(cfg, "environment");
	if (cfg->landlock_abi > 0 && apply_landlock(cfg) < 0)
		child_fail(cfg, "landlock");
	if (apply_seccomp() < 0)
		child_fail(cfg, "seccomp");
	int r = cfg->result_fd;
	if (r > 3)
		syscall(SYS_close_range, 3, r - 1, 0);
	syscall(SYS_close_range, r + 1, ~0U, 0);
	execvp(cfg->argv[0], cfg->argv);
	child_fail(cfg, "exec %s", cfg->argv[0]);
}

void child_main(struct config *cfg, int sync_fd)
{
	/* If the helper dies, so does PID 1, and with it the whole namespace. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	char go;
	if (read(sync_fd, &go, 1) != 1)
		_exit(125);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(cfg, "making / private");
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_op *m = &cfg->mounts[i];
		if (m->kind != M_RO && m->kind != M_RW)
			continue;
		struct stat st;
		if (stat(m->src, &st) < 0)
			child_fail(cfg, "source %s", m->src);
		m->is_dir = S_ISDIR(st.st_mode);
		if (!m->is_dir && !S_ISREG(st.st_mode))
			child_fail(cfg, "source %s is neither a directory nor a file", m->src);
		uint64_t attrs = ATTR_NOSUID | ATTR_NODEV | (m->kind == M_RO ? ATTR_RDONLY : 0);
		m->fd = clone_tree(m->src, attrs);
		if (m->fd < 0)
			child_fail(cfg, "bind %s", m->src);
	}
	int devfd[NDEV];
	for (size_t i = 0; i < NDEV; i++) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", devices[i]);
		devfd[i] = clone_tree(path, ATTR_NOSUID | ATTR_NOEXEC);
		if (devfd[i] < 0)
			child_fail(cfg, "bind %s", path);
	}

	/* Files created from here on must belong to an id mapped in the namespace. */
	if (become_build_id(cfg) < 0)
		child_fail(cfg, "switching to uid %u", (unsigned)cfg->uid);
	/* A change of credentials clears the parent-death signal: set it again, then make sure
	 * the parent did not die in between (it holds the other end of the sync pipe open). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct pollfd pfd = {.fd = sync_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 0)
		_exit(125);
	close(sync_fd);

	/* The new root: a small tmpfs holding only mount points, made read-only at the end. */
	if (mount_tmpfs("/tmp", 1 << 20, "0755") < 0)
		child_fail(cfg, "new root tmpfs");
	if (mkdir("/tmp/proc", 0555) < 0 ||
	    mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(cfg, "mounting /proc");
	if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(cfg, "pivot_root");

	/* The private /tmp comes first, so that mounts below /tmp (a client's directory there)
	 * land on it instead of being hidden by it. */
	int have_tmp = 0;
	for (size_t i = 0; i < cfg->nmounts; i++)
		have_tmp |= strcmp(cfg->mounts[i].dst, "/tmp") == 0;
	if (!have_tmp && (mkdir("/tmp", 0755) < 0 || mount_tmpfs("/tmp", DEFAULT_TMP_SIZE, "1777") < 0))
		child_fail(cfg, "private /tmp");

	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_op *m = &cfg->mounts[i];
		char buf[4096];
		switch (m->kind) {
		case M_RO:
		case M_RW:
			if (attach(m->fd, m->dst, m->is_dir) < 0)
				child_fail(cfg, "mounting %s on %s", m->src, m->dst);
			close(m->fd);
			break;
		case M_TMPFS:
			snprintf(buf, sizeof buf, "%s", m->dst);
			if (mkdir_p(buf, 0755) < 0 || mount_tmpfs(m->dst, m->size, "1777") < 0)
				child_fail(cfg, "tmpfs on %s", m->dst);
			break;
		case M_SYMLINK:
			if (mkdir_parent(m->dst) < 0 || symlink(m->src, m->dst) < 0)
				child_fail(cfg, "symlink %s", m->dst);
			break;
		case M_DIR:
			snprintf(buf, sizeof buf, "%s", m->dst);
			if (mkdir_p(buf, 0755) < 0)
				child_fail(cfg, "mkdir %s", m->dst);
			break;
		}
	}
	/* Minimal /dev: the host's harmless character devices, no tty, no shm. */
	if (mkdir("/dev", 0755) < 0 || mount_tmpfs("/dev", 64 << 10, "0755") < 0)
		child_fail(cfg, "/dev tmpfs");
	for (size_t i = 0; i < NDEV; i++) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", devices[i]);
		if (attach(devfd[i], path, 0) < 0)
			child_fail(cfg, "mounting %s", path);
		close(devfd[i]);
	}
	if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "/dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "/dev/stderr") < 0)
		child_fail(cfg, "/dev links");
	if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		child_fail(cfg, "read-only /dev");
	int sysfd = clone_tree("/proc/sys", ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC);
	if (sysfd < 0 || attach(sysfd, "/proc/sys", 1) < 0)
		child_fail(cfg, "read-only /proc/sys");
	close(sysfd);
	if (sethostname("sandbox", 7) < 0 || setdomainname("sandbox", 7) < 0)
		child_fail(cfg, "hostname");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		child_fail(cfg, "read-only root");

	/* Nothing in the sandbox may read this process's memory or file descriptors. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid = fork();
	if (pid < 0)
		child_fail(cfg, "fork");
	if (pid == 0)
		payload(cfg);
	drop_all_caps();
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w == pid) {
			char line[32];
			int n = snprintf(line, sizeof line, "X %d\n", st);
			if (write(cfg->result_fd, line, (size_t)n) < 0)
				_exit(125);
			/* Leaving PID 1 kills the rest of the namespace (double-forked daemons too). */
			_exit(0);
		}
		if (w < 0 && errno != EINTR)
			_exit(125);
	}
}
