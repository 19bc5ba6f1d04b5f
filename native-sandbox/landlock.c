/*
 * Landlock, by raw syscalls (no library; the UAPI structures are restated here so that older
 * kernel headers still build). Read and execute for the read-only trees, write only in the
 * writable trees and /tmp (and nothing executable there), no TCP bind or connect (ABI >= 4),
 * no abstract unix sockets or signals outside the sandbox (ABI >= 6).
 *
 * Landlock backs up the mount namespace: even a mistake in the mount table cannot make a host
 * path writable, since the rules name the sandbox's own paths.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_REFER (1ULL << 13)    /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t fs = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
	if (abi >= 2)
		fs |= FS_REFER;
	if (abi >= 3)
		fs |= FS_TRUNCATE;
	if (abi >= 5)
		fs |= FS_IOCTL_DEV;
	return fs;
}

static int add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	/* Rules on a file may only carry file rights. */
	if (!S_ISDIR(st.st_mode))
		access &= FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV;
	struct ll_path_beneath_attr rule = {.allowed_access = access & handled, .parent_fd = fd};
	int r = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int apply_landlock(const struct config *cfg)
{
	int abi = cfg->landlock_abi;
	uint64_t fs = handled_fs(abi);
	struct ll_ruleset_attr attr = {.handled_access_fs = fs};
	size_t size = sizeof attr.handled_access_fs;
	if (abi >= 4) {
		attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP; /* and no rule allows any */
		size += sizeof attr.handled_access_net;
	}
	if (abi >= 6) {
		attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
		size += sizeof attr.scoped;
	}
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return -1;

	const uint64_t read_exec = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE;
	/* Writable trees: everything but devices, and no execution (W^X). */
	const uint64_t writable = fs & ~(FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_EXECUTE | FS_IOCTL_DEV);
	int ok = add_rule(rs, "/", FS_READ_DIR, fs) == 0 &&
		 add_rule(rs, "/proc", FS_READ_FILE | FS_READ_DIR, fs) == 0 &&
		 add_rule(rs, "/dev",
			  FS_READ_FILE | FS_READ_DIR | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV,
			  fs) == 0;
	int have_tmp = 0;
	for (size_t i = 0; ok && i < cfg->nmounts; i++) {
		const struct mount_op *m = &cfg->mounts[i];
		if (strcmp(m->dst, "/tmp") == 0)
			have_tmp = 1;
		if (m->kind == M_RO)
			ok = add_rule(rs, m->dst, read_exec, fs) == 0;
		else if (m->kind == M_RW || m->kind == M_TMPFS)
			ok = add_rule(rs, m->dst, writable, fs) == 0;
	}
	if (ok && !have_tmp)
		ok = add_rule(rs, "/tmp", writable, fs) == 0;
	if (!ok || syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		int saved = errno;
		close(rs);
		errno = saved;
		return -1;
	}
	close(rs);
	return 0;
}
