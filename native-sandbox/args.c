/*
 * Command line of meshcc-sandbox. Paths are separate arguments (bwrap style), never joined
 * with ':', so that any path (a client's working directory may contain ':') can be given.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("meshcc-sandbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: meshcc-sandbox [--ro SRC DST]... [--rw SRC DST]... [--tmpfs DST SIZE]...\n"
	      "         [--symlink TARGET DST]... [--dir DST]... [--cwd DIR] [--timeout-ms N]\n"
	      "         [--cpu-ms N] [--mem-bytes N] [--nproc N] [--fsize N] [--nofile N]\n"
	      "         [--env K=V]... [--uid N] [--gid N] [--status-fd FD] -- PROGRAM [ARG]...\n"
	      "       meshcc-sandbox --probe [--status-fd FD]\n",
	      stderr);
	exit(2);
}

/* Accepts a decimal number with an optional binary suffix K, M, G or T. */
static unsigned long long parse_size(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		usage_error("%s: not a number: %s", opt, s);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end)
		usage_error("%s: bad suffix: %s", opt, s);
	if (shift && v > (~0ULL >> shift))
		usage_error("%s: too large: %s", opt, s);
	return v << shift;
}

/* A path inside the sandbox: absolute, no '.' or '..' component, not '/', not /proc or /dev. */
static const char *sandbox_path(const char *opt, const char *p)
{
	if (p[0] != '/' || p[1] == '\0')
		usage_error("%s: sandbox path must be absolute and not '/': %s", opt, p);
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			usage_error("%s: '.' and '..' are not allowed: %s", opt, p);
		c = e;
	}
	static const char *const reserved[] = {"/proc", "/dev"};
	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
		size_t n = strlen(reserved[i]);
		if (strncmp(p, reserved[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
			usage_error("%s: %s is provided by the sandbox: %s", opt, reserved[i], p);
	}
	return p;
}

static const char *host_path(const char *opt, const char *p)
{
	if (p[0] != '/')
		usage_error("%s: host path must be absolute: %s", opt, p);
	return p;
}

static struct mount_op *add_mount(struct config *cfg, enum mount_kind kind)
{
	cfg->mounts = realloc(cfg->mounts, (cfg->nmounts + 1) * sizeof *cfg->mounts);
	if (!cfg->mounts)
		usage_error("out of memory");
	struct mount_op *m = &cfg->mounts[cfg->nmounts++];
	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->fd = -1;
	return m;
}

int parse_args(int argc, char **argv, struct config *cfg)
{
	int i = 1;
#define NEED(n)                                                                                    \
	do {                                                                                       \
		if (i + (n) >= argc)                                                               \
			usage_error("%s needs %d argument(s)", a, (n));                            \
	} while (0)
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--ro") == 0 || strcmp(a, "--rw") == 0) {
			NEED(2);
			struct mount_op *m = add_mount(cfg, a[3] == 'o' ? M_RO : M_RW);
			m->src = host_path(a, argv[++i]);
			m->dst = sandbox_path(a, argv[++i]);
		} else if (strcmp(a, "--tmpfs") == 0) {
			NEED(2);
			struct mount_op *m = add_mount(cfg, M_TMPFS);
			m->dst = sandbox_path(a, argv[++i]);
			m->size = parse_size(a, argv[++i]);
			if (m->size == 0)
				usage_error("--tmpfs: size must be > 0");
		} else if (strcmp(a, "--symlink") == 0) {
			NEED(2);
			struct mount_op *m = add_mount(cfg, M_SYMLINK);
			m->src = argv[++i];
			m->dst = sandbox_path(a, argv[++i]);
			if (!*m->src)
				usage_error("--symlink: empty target");
		} else if (strcmp(a, "--dir") == 0) {
			NEED(1);
			add_mount(cfg, M_DIR)->dst = sandbox_path(a, argv[++i]);
		} else if (strcmp(a, "--cwd") == 0) {
			NEED(1);
			cfg->cwd = argv[++i];
			if (cfg->cwd[0] != '/')
				usage_error("--cwd must be absolute: %s", cfg->cwd);
		} else if (strcmp(a, "--timeout-ms") == 0) {
			NEED(1);
			cfg->timeout_ms = (long long)parse_size(a, argv[++i]);
		} else if (strcmp(a, "--cpu-ms") == 0) {
			NEED(1);
			cfg->cpu_ms = (long long)parse_size(a, argv[++i]);
		} else if (strcmp(a, "--mem-bytes") == 0) {
			NEED(1);
			cfg->mem_bytes = parse_size(a, argv[++i]);
		} else if (strcmp(a, "--nproc") == 0) {
			NEED(1);
			cfg->nproc = parse_size(a, argv[++i]);
		} else if (strcmp(a, "--fsize") == 0) {
			NEED(1);
			cfg->fsize = parse_size(a, argv[++i]);
		} else if (strcmp(a, "--nofile") == 0) {
			NEED(1);
			cfg->nofile = parse_size(a, argv[++i]);
		} else if (strcmp(a, "--env") == 0) {
			NEED(1);
			char *kv = argv[++i];
			char *eq = strchr(kv, '=');
			if (!eq || eq == kv)
				usage_error("--env wants K=V: %s", kv);
			cfg->env = realloc(cfg->env, (cfg->nenv + 1) * sizeof *cfg->env);
			if (!cfg->env)
				usage_error("out of memory");
			cfg->env[cfg->nenv++] = kv;
		} else if (strcmp(a, "--uid") == 0) {
			NEED(1);
			cfg->uid = (uid_t)parse_size(a, argv[++i]);
		} else if (strcmp(a, "--gid") == 0) {
			NEED(1);
			cfg->gid = (gid_t)parse_size(a, argv[++i]);
		} else if (strcmp(a, "--status-fd") == 0) {
			NEED(1);
			cfg->status_fd = (int)parse_size(a, argv[++i]);
			if (cfg->status_fd < 3)
				usage_error("--status-fd must be 3 or more");
		} else {
			usage_error("unknown option: %s", a);
		}
	}
#undef NEED
	if (i >= argc)
		usage_error("no program given (put it after --)");
	cfg->argv = &argv[i];
	if (cfg->timeout_ms <= 0)
		usage_error("--timeout-ms must be > 0");
	if (cfg->cpu_ms <= 0)
		cfg->cpu_ms = cfg->timeout_ms;
	return 0;
}
