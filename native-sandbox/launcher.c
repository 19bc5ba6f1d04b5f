/*
 * meshcc-sandbox --launcher: a small long-lived process that starts sandbox runs for the daemon.
 *
 * Why: a Node daemon's spawn() forks the whole daemon (hundreds of MB of mappings: page tables
 * copied, copy-on-write faults afterwards), several milliseconds of the daemon's main thread per
 * job. This process is tiny, so its fork costs next to nothing. Its child runs nothing but the
 * helper's own code (`helper_main`, the same binary), with the run's arguments, an empty
 * environment, descriptors 0-3 only and default signal handling, so every isolation property of
 * a run is the helper's own, exactly as when the daemon spawns it; the compiler is executed
 * inside the sandbox as always. The child does not execute the helper binary again: that exec
 * (a static binary's relocation and glibc's start-up, whose CPUID probing is slow in a VM) was
 * about 0.7 ms per job. It also serves a job's main source through a FIFO (no `mkfifo` process,
 * no polling by the daemon).
 *
 * Protocol on stdin/stdout, frames of a 9-byte header (type, u32 id, u32 length, little endian)
 * and `length` bytes:
 *   in  'S' id argv   run the helper with these NUL-terminated arguments (after argv[0]); its
 *                     stdin is /dev/null, its stdout, stderr and descriptor 3 are pipes
 *   in  'K' id -      SIGTERM to run `id` (the helper kills its sandbox and reports)
 *   in  'W' id root rel text original   serve a job's main source through a FIFO (below)
 *   in  'G' id -      the text of FIFO `id` is complete: its writer may copy it in now
 *   out 'H' 0  -      ready (sent once at start)
 *   out 'O'/'E'/'T' id data   run `id` wrote this on stdout / stderr / descriptor 3
 *   out 'X' id i32    run `id` ended with this wait status (after all three pipes closed)
 *   out 'P' id i32    run `id` could not be started (errno)
 *   out 'F' id i32    'W' answer: 0 when the FIFO was made and its writer started (an 'X'
 *                     follows when the writer ends), else errno (and there is no FIFO)
 * End of stdin (the daemon is gone): SIGTERM to every run, wait for them, exit.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNS 256
#define MAX_FRAME (4u << 20)

struct run {
	uint32_t id;
	pid_t pid;     /* 0: reaped */
	int fds[3];    /* stdout, stderr, status: -1 once closed */
	int status;
	int used;
	int go;        /* FIFO writers: the write end of their go pipe until 'G' (-1: none) */
};

static struct run runs[MAX_RUNS];
static int out_broken;
static pid_t launcher_pid;

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0 && !out_broken) {
		ssize_t n = write(1, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out_broken = 1;
			return;
		}
		p += n, len -= (size_t)n;
	}
}

static void send_frame(char type, uint32_t id, const void *data, uint32_t len)
{
	unsigned char h[9];
	h[0] = (unsigned char)type;
	put_u32(h + 1, id);
	put_u32(h + 5, len);
	write_all(h, sizeof h);
	if (len > 0)
		write_all(data, len);
}

static void send_int(char type, uint32_t id, int32_t v)
{
	unsigned char b[4];
	put_u32(b, (uint32_t)v);
	send_frame(type, id, b, 4);
}

static int read_all(void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(0, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

/* In the forked child: descriptors 0-3 in place, everything else closed, then the helper. */
/* Signals the launcher handles or ignores: back to their defaults in a run's child. */
static const int handled_signals[] = {SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP};

static void run_helper(int null_fd, const int w[3], int argc, char **argv)
{
	/* Out of the way first: any of them may sit on 0-3. */
	int hi[4] = {fcntl(null_fd, F_DUPFD, 10), fcntl(w[0], F_DUPFD, 10),
		     fcntl(w[1], F_DUPFD, 10), fcntl(w[2], F_DUPFD, 10)};
	for (int i = 0; i < 4; i++)
		if (hi[i] < 0 || dup2(hi[i], i) < 0)
			_exit(127);
	/* Nothing of the launcher's stays open: the daemon's pipe, the signalfd, other runs' pipes. */
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
		signal(handled_signals[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A launcher that dies (even by SIGKILL) stops its runs: the helper turns SIGTERM into
	 * killing its sandbox. Checked against a launcher already gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != launcher_pid)
		_exit(127);
	/* The launcher itself runs with an empty environment (launcher.ts); make sure of it. */
	clearenv();
	exit(helper_main(argc, argv));
}

static void start_run(uint32_t id, char *payload, uint32_t len)
{
	int argc = 1;
	for (uint32_t i = 0; i < len; i++)
		argc += payload[i] == '\0';
	struct run *r = NULL;
	for (int i = 0; i < MAX_RUNS && !r; i++)
		if (!runs[i].used)
			r = &runs[i];
	if (!r || len == 0 || payload[len - 1] != '\0') {
		send_int('P', id, r ? EINVAL : EAGAIN);
		return;
	}
	char **argv = calloc((size_t)argc + 1, sizeof *argv);
	int pr[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int ok = argv != NULL && null_fd >= 0;
	for (int i = 0; i < 3 && ok; i++)
		ok = pipe2(pr[i], O_CLOEXEC) == 0;
	if (!ok) {
		send_int('P', id, errno ? errno : ENOMEM);
		goto out;
	}
	argv[0] = "meshcc-sandbox";
	int a = 1;
	for (uint32_t i = 0; i < len; i += (uint32_t)strlen(payload + i) + 1)
		argv[a++] = payload + i;
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		send_int('P', id, errno);
		goto out;
	}
	if (pid == 0) {
		int w[3] = {pr[0][1], pr[1][1], pr[2][1]};
		run_helper(null_fd, w, a, argv);
	}
	*r = (struct run){.id = id, .pid = pid, .used = 1, .go = -1};
	for (int i = 0; i < 3; i++) {
		r->fds[i] = pr[i][0];
		pr[i][0] = -1;
		fcntl(r->fds[i], F_SETFL, O_NONBLOCK);
	}
out:
	for (int i = 0; i < 3; i++) {
		if (pr[i][0] >= 0)
			close(pr[i][0]);
		if (pr[i][1] >= 0)
			close(pr[i][1]);
	}
	if (null_fd >= 0)
		close(null_fd);
	free(argv);
}

static void close_go(struct run *r)
{
	if (r->go >= 0)
		close(r->go);
	r->go = -1;
}

static void finish_if_done(struct run *r)
{
	if (r->used && r->pid == 0 && r->fds[0] < 0 && r->fds[1] < 0 && r->fds[2] < 0) {
		close_go(r);
		send_int('X', r->id, r->status);
		r->used = 0;
	}
}

static void reap(void)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		for (int i = 0; i < MAX_RUNS; i++)
			if (runs[i].used && runs[i].pid == pid) {
				runs[i].pid = 0;
				runs[i].status = st;
				finish_if_done(&runs[i]);
			}
	}
}

/*
 * 'W': makes the FIFO `rel` under the job root `root` (a directory the daemon made; below it,
 * the job may have replaced anything), and forks a writer that waits for the compiler to open it
 * (no polling), then for the daemon's 'G' (the text may still be on its way from the client: a
 * compile started early gets through its start-up meanwhile and then blocks in its first read),
 * copies `text` (the preprocessed source) into it, renames `original` over it and only then
 * closes it: the compiler reads the text, then finds the original at the path (see
 * builder-sources.ts). A writer whose go pipe closes without a 'G' (a kill) copies nothing. Every path under the root is resolved without following a link and
 * without leaving the root, so a job that swaps a directory or the FIFO for a link cannot
 * redirect a write or the rename to a host file.
 */
static void serve_fifo(uint32_t id, char *payload, uint32_t len)
{
	char *f[4];
	uint32_t off = 0;
	for (int i = 0; i < 4; i++) {
		if (off >= len) {
			send_int('F', id, EINVAL);
			return;
		}
		f[i] = payload + off;
		off += (uint32_t)strlen(f[i]) + 1;
	}
	char *rel = f[1], *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	const char *dir = ".";
	if (slash) {
		*slash = '\0';
		dir = rel;
	}
	struct run *r = NULL;
	for (int i = 0; i < MAX_RUNS && !r; i++)
		if (!runs[i].used)
			r = &runs[i];
	if (!r || f[0][0] != '/' || rel[0] == '/' || !*base || !strcmp(base, ".") ||
	    !strcmp(base, "..")) {
		send_int('F', id, r ? EINVAL : EAGAIN);
		return;
	}
	int root = open(f[0], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
	int parent = root < 0 ? -1 : (int)syscall(SYS_openat2, root, dir, &how, sizeof how);
	int err = parent < 0 ? errno : 0;
	int made = 0;
	/* Whatever the path holds now goes first (a file left by an earlier serving of this path:
	 * a job compiled again the usual way after a try with its input behind `-include`). The
	 * entry itself is removed, never what a link points to. */
	if (!err)
		unlinkat(parent, base, 0);
	if (!err && mkfifoat(parent, base, 0600) < 0)
		err = errno;
	else if (!err)
		made = 1;
	if (!err && fchmodat(parent, base, 0644, 0) < 0)
		err = errno;
	if (root >= 0)
		close(root);
	int gop[2] = {-1, -1};
	if (!err && pipe2(gop, O_CLOEXEC) < 0)
		err = errno;
	pid_t pid = err ? -1 : fork();
	if (!err && pid < 0)
		err = errno;
	if (err && made)
		unlinkat(parent, base, 0); /* no FIFO without its writer: the caller writes a file */
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		close(0);
		close(1);
		/* Only the launcher may hold a go pipe's write end: a writer keeping another's open
		 * would keep that writer waiting after a kill. */
		close(gop[1]);
		for (int i = 0; i < MAX_RUNS; i++)
			if (runs[i].used && runs[i].go >= 0)
				close(runs[i].go);
		int fd = openat(parent, base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
			_exit(1);
		char go;
		ssize_t g;
		while ((g = read(gop[0], &go, 1)) < 0 && errno == EINTR)
			;
		if (g != 1)
			_exit(1);
		int text = open(f[2], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (text < 0)
			_exit(1);
		for (;;) {
			ssize_t n = sendfile(fd, text, NULL, 1 << 20);
			if (n == 0)
				break;
			if (n < 0 && errno != EINTR)
				_exit(1);
		}
		_exit(renameat(AT_FDCWD, f[3], parent, base) < 0 ? 1 : 0);
	}
	if (parent >= 0)
		close(parent);
	if (gop[0] >= 0)
		close(gop[0]);
	if (err && gop[1] >= 0)
		close(gop[1]);
	send_int('F', id, err);
	if (!err)
		*r = (struct run){.id = id, .pid = pid, .used = 1, .fds = {-1, -1, -1}, .go = gop[1]};
}

/* 'G': the text of FIFO `id` is in place; its writer may copy it. */
static void go_fifo(uint32_t id)
{
	for (int i = 0; i < MAX_RUNS; i++)
		if (runs[i].used && runs[i].id == id && runs[i].go >= 0) {
			ssize_t n;
			while ((n = write(runs[i].go, "g", 1)) < 0 && errno == EINTR)
				;
			close_go(&runs[i]);
		}
}

static void kill_run(uint32_t id)
{
	for (int i = 0; i < MAX_RUNS; i++)
		if (runs[i].used && runs[i].id == id) {
			close_go(&runs[i]);
			if (runs[i].pid > 0)
				kill(runs[i].pid, SIGTERM);
		}
}

/* One frame from the daemon; -1 at end of input or on a malformed frame. */
static int handle_input(void)
{
	unsigned char h[9];
	if (read_all(h, sizeof h) < 0)
		return -1;
	uint32_t id = get_u32(h + 1), len = get_u32(h + 5);
	if (len > MAX_FRAME)
		return -1;
	char *payload = malloc(len + 1);
	if (!payload || read_all(payload, len) < 0) {
		free(payload);
		return -1;
	}
	payload[len] = '\0';
	switch (h[0]) {
	case 'S':
		start_run(id, payload, len);
		break;
	case 'K':
		kill_run(id);
		break;
	case 'W':
		serve_fifo(id, payload, len);
		break;
	case 'G':
		go_fifo(id);
		break;
	default:
		free(payload);
		return -1;
	}
	free(payload);
	return 0;
}

int launcher_main(void)
{
	launcher_pid = getpid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM, SIGINT, SIGHUP (the daemon's end, a terminal's ^C): stop every run, then exit. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		perror("meshcc-sandbox: signalfd");
		return 125;
	}
	send_frame('H', 0, NULL, 0);
	static char buf[65536];
	int input_open = 1;
	for (;;) {
		struct pollfd p[2 + MAX_RUNS * 3];
		struct run *owner[2 + MAX_RUNS * 3];
		int which[2 + MAX_RUNS * 3];
		int np = 0, active = 0;
		p[np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		p[np++] = (struct pollfd){.fd = input_open ? 0 : -1, .events = POLLIN};
		for (int i = 0; i < MAX_RUNS; i++) {
			if (!runs[i].used)
				continue;
			active++;
			for (int k = 0; k < 3; k++)
				if (runs[i].fds[k] >= 0) {
					owner[np] = &runs[i], which[np] = k;
					p[np++] = (struct pollfd){.fd = runs[i].fds[k], .events = POLLIN};
				}
		}
		if (!input_open && active == 0)
			return 0;
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("meshcc-sandbox: poll");
			return 125;
		}
		for (int i = 2; i < np; i++) {
			if (!p[i].revents)
				continue;
			struct run *r = owner[i];
			int k = which[i];
			ssize_t got = read(r->fds[k], buf, sizeof buf);
			if (got > 0) {
				send_frame("OET"[k], r->id, buf, (uint32_t)got);
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(r->fds[k]);
				r->fds[k] = -1;
				finish_if_done(r);
			}
		}
		int stop = 0;
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si)
				stop |= si.ssi_signo != SIGCHLD;
			reap();
		}
		if (input_open && (stop || (p[1].revents && handle_input() < 0))) {
			/* The daemon is gone (or spoke nonsense): stop every run, then exit. */
			input_open = 0;
			for (int i = 0; i < MAX_RUNS; i++)
				if (runs[i].used && runs[i].pid > 0)
					kill(runs[i].pid, SIGTERM);
		}
		if (out_broken && input_open) {
			input_open = 0;
			for (int i = 0; i < MAX_RUNS; i++)
				if (runs[i].used && runs[i].pid > 0)
					kill(runs[i].pid, SIGTERM);
		}
	}
}
