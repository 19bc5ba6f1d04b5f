/*
 * meshcc-sandbox: shared declarations.
 *
 * The helper runs one program (a compiler) isolated from the machine: new user, mount, PID,
 * network, IPC, UTS and cgroup namespaces, a root made only of the given mounts, rlimits,
 * all capabilities dropped, no_new_privs, a seccomp deny-list and Landlock. See README.md.
 */
#ifndef MESHCC_SANDBOX_H
#define MESHCC_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One entry of the mount table, applied in command-line order inside the new root. */
enum mount_kind { M_RO, M_RW, M_TMPFS, M_SYMLINK, M_DIR };

struct mount_op {
	enum mount_kind kind;
	const char *src;        /* host path (M_RO, M_RW) or link target (M_SYMLINK) */
	const char *dst;        /* absolute path inside the sandbox */
	unsigned long long size; /* M_TMPFS: bytes */
	int fd;                 /* M_RO, M_RW: detached mount from open_tree(), -1 otherwise */
	int is_dir;             /* M_RO, M_RW: the source is a directory */
};

struct config {
	struct mount_op *mounts;
	size_t nmounts;
	const char *cwd;
	long long timeout_ms;
	long long cpu_ms;
	unsigned long long mem_bytes;
	unsigned long long fsize;
	unsigned long long nproc;
	unsigned long long nofile;
	char **env;
	size_t nenv;
	int status_fd;
	uid_t uid; /* inside and outside (root) or the caller's (unprivileged) */
	gid_t gid;
	int landlock_abi; /* 0: unavailable */
	int result_fd;    /* write end of the child -> parent result pipe */
	char **argv;      /* program and arguments */
};

#define DEFAULT_TMP_SIZE (256ULL << 20)
#define DEFAULT_BUILD_ID 2147483000U /* far from real users and from the overflow id */

/* args.c */
int parse_args(int argc, char **argv, struct config *cfg);
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* namespaces.c: runs as PID 1 of the new namespaces; never returns. */
void child_main(struct config *cfg, int sync_fd) __attribute__((noreturn));
/* Reports a setup failure to the parent through the result pipe, then exits. */
void child_fail(const struct config *cfg, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* limits.c */
int apply_rlimits(const struct config *cfg);
int drop_privileges(const struct config *cfg);
int reset_environment(const struct config *cfg);

/* landlock.c */
int landlock_abi(void);
int apply_landlock(const struct config *cfg);

/* seccomp.c */
int apply_seccomp(void);

/* selfcheck.c */
int self_check(void);

/* launcher.c: `--launcher`, starts runs for the daemon (see there). */
int launcher_main(void);
/* main.c: one run of the helper, given its command line (argv[0] is not used as a path). */
int helper_main(int argc, char **argv);
int probe_config(struct config *cfg, const char *self);

#endif
