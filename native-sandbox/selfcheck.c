/*
 * `--probe`: runs the helper itself inside a sandbox (read-only, at /.meshcc-sandbox) with
 * `--self-check`, which verifies from the inside that the isolation took effect. This is what
 * `meshcc doctor` and a builder's start-up use: a real end-to-end run, not a feature guess.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SELF_DST "/.meshcc-sandbox"

int probe_config(struct config *cfg, const char *argv0)
{
	(void)argv0;
	static char self[PATH_MAX];
	static char links[3][PATH_MAX];
	static struct mount_op ops[8];
	static char *argv[] = {SELF_DST, "--self-check", NULL};
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		return -1;
	self[n] = '\0';
	size_t k = 0;
	ops[k++] = (struct mount_op){.kind = M_RO, .src = self, .dst = SELF_DST, .fd = -1};
	/* The system's library directories, in case the helper is linked dynamically. */
	static const char *const libdirs[] = {"/usr", "/lib", "/lib64"};
	for (size_t i = 0; i < 3; i++) {
		struct stat st;
		if (lstat(libdirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t l = readlink(libdirs[i], links[i], PATH_MAX - 1);
			if (l < 0)
				return -1;
			links[i][l] = '\0';
			ops[k++] = (struct mount_op){
				.kind = M_SYMLINK, .src = links[i], .dst = libdirs[i], .fd = -1};
		} else if (S_ISDIR(st.st_mode)) {
			ops[k++] = (struct mount_op){
				.kind = M_RO, .src = libdirs[i], .dst = libdirs[i], .fd = -1};
		}
	}
	cfg->mounts = ops;
	cfg->nmounts = k;
	cfg->argv = argv;
	cfg->timeout_ms = 10000;
	cfg->cpu_ms = 10000;
	cfg->mem_bytes = 256ULL << 20;
	cfg->nproc = 16;
	cfg->fsize = 1 << 20;
	cfg->nofile = 64;
	return 0;
}

static long status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	size_t len = strlen(name);
	long v = -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 16);
			break;
		}
	}
	fclose(f);
	return v;
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int self_check(void)
{
	int fd;
	struct {
		const char *name;
		int ok;
	} c[] = {
		{"capEffZero", status_field("CapEff") == 0},
		{"noNewPrivs", status_field("NoNewPrivs") == 1},
		{"seccompFilter", status_field("Seccomp") == 2},
		{"pidNamespace", getpid() == 2},
		{"notRoot", getuid() != 0 && geteuid() != 0},
		{"noInetSocket", (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 && errno == EAFNOSUPPORT},
		{"noUnshare", unshare(CLONE_NEWUSER) < 0},
		{"readOnlyRoot", open("/probe-write", O_WRONLY | O_CREAT, 0644) < 0},
		{"noHostFiles", access("/etc/shadow", F_OK) < 0 && access("/home", F_OK) < 0},
		/* /proc/net/dev: two header lines and lo only. */
		{"netNamespace", count_lines("/proc/self/net/dev") == 3},
		{"privateTmp", access("/tmp", W_OK) == 0},
	};
	int all = 1;
	printf("{\"checks\":{");
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		printf("%s\"%s\":%s", i ? "," : "", c[i].name, c[i].ok ? "true" : "false");
		all &= c[i].ok;
	}
	printf("},\"ok\":%s}\n", all ? "true" : "false");
	return all ? 0 : 1;
}
