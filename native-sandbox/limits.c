/*
 * Payload limits and privileges: rlimits (the memory, CPU, file-size, process and descriptor
 * caps; cgroup controllers are not assumed), every capability dropped including the bounding
 * and ambient sets, no_new_privs, and an environment made only of the --env entries.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lowers a limit; a hard limit can only go down, so a request above it keeps the current one. */
static int set_limit(int resource, unsigned long long soft, unsigned long long hard)
{
	struct rlimit cur;
	if (getrlimit(resource, &cur) < 0)
		return -1;
	if (cur.rlim_max != RLIM_INFINITY && hard > cur.rlim_max)
		hard = cur.rlim_max;
	if (soft > hard)
		soft = hard;
	struct rlimit r = {.rlim_cur = soft, .rlim_max = hard};
	return setrlimit(resource, &r);
}

int apply_rlimits(const struct config *cfg)
{
	/* RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL one second later. */
	unsigned long long cpu_s = ((unsigned long long)cfg->cpu_ms + 999) / 1000;
	if (set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) < 0 ||
	    set_limit(RLIMIT_AS, cfg->mem_bytes, cfg->mem_bytes) < 0 ||
	    set_limit(RLIMIT_DATA, cfg->mem_bytes, cfg->mem_bytes) < 0 ||
	    set_limit(RLIMIT_FSIZE, cfg->fsize, cfg->fsize) < 0 ||
	    set_limit(RLIMIT_NPROC, cfg->nproc, cfg->nproc) < 0 ||
	    set_limit(RLIMIT_NOFILE, cfg->nofile, cfg->nofile) < 0 ||
	    set_limit(RLIMIT_CORE, 0, 0) < 0 || set_limit(RLIMIT_MEMLOCK, 64 << 10, 64 << 10) < 0 ||
	    set_limit(RLIMIT_MSGQUEUE, 0, 0) < 0)
		return -1;
	return 0;
}

int drop_privileges(const struct config *cfg)
{
	(void)cfg;
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the last capability this kernel knows */
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	if (syscall(SYS_capset, &h, d) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int reset_environment(const struct config *cfg)
{
	if (clearenv() != 0)
		return -1;
	for (size_t i = 0; i < cfg->nenv; i++)
		if (putenv(cfg->env[i]) != 0)
			return -1;
	return 0;
}
