/*
 * meshcc-sandbox, parent side: parses the command line, creates the namespaces, writes the id
 * maps, enforces the wall-clock deadline and reports one JSON status line on --status-fd.
 *
 * The parent stays outside the sandbox. Its child is PID 1 of a new PID namespace; killing that
 * one process with SIGKILL makes the kernel kill every process in the namespace, double-forked
 * daemons included, so a timeout or an abort leaves nothing behind.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define VERSION "1"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* JSON string escaping for error messages. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct outcome {
	int exited;   /* payload exited normally */
	int code;     /* exit code or signal number */
	int timed_out;
	int aborted;  /* the helper itself got SIGTERM/SIGINT/SIGHUP */
	long long cpu_ms;
	long max_rss_kb;
	long long wall_ms;
	char error[512]; /* non-empty: the sandbox could not be set up */
};

static void report(const struct config *cfg, const struct outcome *o, int level)
{
	if (cfg->status_fd < 0)
		return;
	FILE *f = fdopen(cfg->status_fd, "w");
	if (!f)
		return;
	int ran = !o->error[0] && !o->timed_out && !o->aborted;
	fputs("{\"exit\":", f);
	if (ran && o->exited)
		fprintf(f, "%d", o->code);
	else
		fputs("null", f);
	fputs(",\"signal\":", f);
	if (!o->error[0] && (!o->exited || o->timed_out || o->aborted)) {
		int sig = o->timed_out || o->aborted ? SIGKILL : o->code;
		const char *name = sigabbrev_np(sig);
		fprintf(f, "\"SIG%s\"", name ? name : "UNKNOWN");
	} else {
		fputs("null", f);
	}
	/* Nothing but the kernel's OOM killer sends SIGKILL to the payload unasked. */
	int oom = ran && !o->exited && o->code == SIGKILL;
	fprintf(f,
		",\"timedOut\":%s,\"aborted\":%s,\"oom\":%s,\"cpuMs\":%lld,\"maxRssKb\":%ld,"
		"\"wallMs\":%lld,\"sandboxLevel\":%d,\"landlockAbi\":%d,\"error\":",
		o->timed_out ? "true" : "false", o->aborted ? "true" : "false",
		oom ? "true" : "false", o->cpu_ms, o->max_rss_kb, o->wall_ms, level,
		cfg->landlock_abi);
	if (o->error[0])
		json_str(f, o->error);
	else
		fputs("null", f);
	fputs("}\n", f);
	fclose(f);
}

static uid_t chown_uid;
static gid_t chown_gid;
/* A file with several links may also sit outside the tree (a cache entry): left as it is,
 * readable but not writable by the job. */
static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag, (void)ftw;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1)
		return 0;
	return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--self-check") == 0)
		return self_check();
	/* Not a setuid program: installed so, it would mount any host path for any user. */
	if (getuid() != geteuid() || getgid() != getegid()) {
		fputs("meshcc-sandbox: refusing to run setuid or setgid\n", stderr);
		return 125;
	}
	if (argc == 2 && strcmp(argv[1], "--launcher") == 0)
		return launcher_main();
	return helper_main(argc, argv);
}

/* One run (or --probe, --version): also called directly by the launcher's child (launcher.c). */
int helper_main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("meshcc-sandbox " VERSION);
		return 0;
	}

	struct config cfg = {
		.timeout_ms = 600000,
		.mem_bytes = 4ULL << 30,
		.nproc = 256,
		.fsize = 2ULL << 30,
		.nofile = 1024,
		.status_fd = -1,
		.uid = (uid_t)-1,
		.gid = (gid_t)-1,
		.cwd = "/",
	};
	int probe = argc >= 2 && strcmp(argv[1], "--probe") == 0;
	if (probe) {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc)
				cfg.status_fd = atoi(argv[++i]);
			else
				usage_error("--probe takes only --status-fd");
		}
		if (probe_config(&cfg, argv[0]) < 0)
			usage_error("cannot locate the helper's own binary: %s", strerror(errno));
	} else {
		parse_args(argc, argv, &cfg);
	}
	if (cfg.status_fd >= 0 && fcntl(cfg.status_fd, F_SETFD, FD_CLOEXEC) < 0)
		usage_error("--status-fd %d is not open", cfg.status_fd);

	signal(SIGPIPE, SIG_IGN); /* a reader gone from the status pipe must not cost the cleanup */
	cfg.landlock_abi = landlock_abi();
	int level = cfg.landlock_abi > 0 ? 3 : 2;
	struct outcome o = {0};
	long long start = now_ms();

	/* As root: jobs run as an unprivileged build id; the namespace maps it to itself. The
	 * supplementary groups are dropped here, since a user namespace cannot drop them later. */
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (geteuid() == 0) {
		uid = cfg.uid != (uid_t)-1 ? cfg.uid : DEFAULT_BUILD_ID;
		gid = cfg.gid != (gid_t)-1 ? cfg.gid : (cfg.uid != (uid_t)-1 ? cfg.uid : DEFAULT_BUILD_ID);
		if (uid == 0 || gid == 0)
			usage_error("the build uid/gid must not be 0");
		if (setgroups(0, NULL) < 0) {
			snprintf(o.error, sizeof o.error, "setgroups: %s", strerror(errno));
			goto done;
		}
		/* Hand the writable trees to the build id (no symlink followed, no mount crossed). */
		chown_uid = uid, chown_gid = gid;
		for (size_t i = 0; i < cfg.nmounts; i++) {
			if (cfg.mounts[i].kind == M_RW &&
			    nftw(cfg.mounts[i].src, chown_one, 32, FTW_PHYS | FTW_MOUNT) != 0) {
				snprintf(o.error, sizeof o.error, "chown %s: %s", cfg.mounts[i].src,
					 strerror(errno));
				goto done;
			}
		}
	} else if ((cfg.uid != (uid_t)-1 && cfg.uid != uid) ||
		   (cfg.gid != (gid_t)-1 && cfg.gid != gid)) {
		usage_error("--uid/--gid need root");
	}
	cfg.uid = uid;
	cfg.gid = gid;

	sigset_t sigs, oldsigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &oldsigs);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	int sync_pipe[2], result_pipe[2];
	if (sfd < 0 || pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(result_pipe, O_CLOEXEC) < 0) {
		snprintf(o.error, sizeof o.error, "pipe: %s", strerror(errno));
		goto done;
	}
	cfg.result_fd = result_pipe[1];

	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
		    CLONE_NEWUTS | CLONE_NEWCGROUP;
	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		snprintf(o.error, sizeof o.error,
			 "cannot create namespaces (user, mount, pid, net, ipc, uts): %s",
			 strerror(errno));
		level = 1;
		goto done;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &oldsigs, NULL);
		close(sync_pipe[1]);
		close(result_pipe[0]);
		child_main(&cfg, sync_pipe[0]);
	}
	close(sync_pipe[0]);
	close(result_pipe[1]);

	char map[64];
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	int mapped = write_file(pid, "uid_map", map) == 0 &&
		     write_file(pid, "setgroups", "deny\n") == 0;
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	mapped = mapped && write_file(pid, "gid_map", map) == 0;
	if (!mapped) {
		snprintf(o.error, sizeof o.error, "cannot write the user namespace's id maps: %s",
			 strerror(errno));
		level = 1;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto done;
	}
	/* The write end stays open until this process dies: PID 1 checks for that. */
	if (write(sync_pipe[1], "g", 1) != 1)
		kill(pid, SIGKILL);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long long deadline = start + cfg.timeout_ms;
	for (;;) {
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		long long left = deadline - now_ms();
		if (left <= 0) {
			o.timed_out = 1;
			break;
		}
		int wait_ms = left > 60000 ? 60000 : (int)left;
		int n = poll(p, 2, pidfd < 0 && wait_ms > 10 ? 10 : wait_ms);
		if (n < 0 && errno != EINTR) {
			o.aborted = 1;
			break;
		}
		if (n > 0 && (p[1].revents & POLLIN)) {
			o.aborted = 1;
			break;
		}
		if (n > 0 && (p[0].revents & POLLIN))
			break;
		if (pidfd < 0) {
			/* No pidfd (kernel < 5.3): look at the child every 10 ms instead. */
			siginfo_t si = {0};
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid)
				break;
		}
	}
	if (o.timed_out || o.aborted)
		kill(pid, SIGKILL); /* PID 1 of the namespace: takes every process in it along */

	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	o.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	o.max_rss_kb = ru.ru_maxrss;

	/* Result lines: "X <wait status>" from PID 1, or "E <message>" from a setup step. */
	char buf[1024];
	ssize_t len = 0, n;
	while (len < (ssize_t)sizeof buf - 1 &&
	       (n = read(result_pipe[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
		len += n;
	buf[len] = '\0';
	int got = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == 'E' && line[1] == ' ' && !o.error[0])
			snprintf(o.error, sizeof o.error, "%s", line + 2);
		else if (line[0] == 'X' && line[1] == ' ') {
			int ws = atoi(line + 2);
			o.exited = WIFEXITED(ws);
			o.code = WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws);
			got = 1;
		}
	}
	if (!got && !o.error[0] && !o.timed_out && !o.aborted)
		snprintf(o.error, sizeof o.error, "sandbox init died (%s %d)",
			 WIFEXITED(st) ? "exit" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));

done:
	o.wall_ms = now_ms() - start;
	report(&cfg, &o, level);
	if (o.error[0]) {
		fprintf(stderr, "meshcc-sandbox: %s\n", o.error);
		return 125;
	}
	if (o.timed_out || o.aborted)
		return 128 + SIGKILL;
	return o.exited ? o.code : 128 + o.code;
}
