/*
 * Seccomp deny-list, written as classic BPF by hand (no libseccomp).
 *
 * Default allow: a compiler uses a wide and changing set of system calls, and the namespaces and
 * Landlock already confine what those calls can reach. The list removes the kernel's riskiest
 * surfaces and everything that could undo the isolation: ptrace, mounts, namespaces, keyrings,
 * BPF, perf, userfaultfd, io_uring, modules, kexec; clone with namespace flags; sockets other
 * than AF_UNIX (EAFNOSUPPORT, as on a kernel without IP); the TIOCSTI and TIOCLINUX ioctls;
 * chmod with setuid/setgid bits.
 * Another architecture's calls (i386, x32) kill the process: their numbers differ and would
 * slip past the list.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "meshcc-sandbox: seccomp filter written for x86_64 and aarch64 only"
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

#define NR_OFF offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
/* Low 32 bits of argument i (little-endian): masks the upper half, as the kernel does for
 * int-typed arguments (CVE-2019-10063 came from comparing all 64 bits of the ioctl number). */
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

static const int denied[] = {
	SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_mount, SYS_umount2,
	SYS_pivot_root, SYS_chroot, SYS_unshare, SYS_setns, SYS_keyctl, SYS_add_key,
	SYS_request_key, SYS_bpf, SYS_perf_event_open, SYS_userfaultfd, SYS_kexec_load,
	SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_swapon, SYS_swapoff, SYS_reboot,
	SYS_acct, SYS_quotactl, SYS_syslog, SYS_open_by_handle_at, SYS_name_to_handle_at,
	SYS_vhangup, SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
	SYS_sethostname, SYS_setdomainname, SYS_fanotify_init, SYS_lookup_dcookie,
#ifdef SYS_kexec_file_load
	SYS_kexec_file_load,
#endif
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
#ifdef SYS_open_tree
	SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
#endif
#ifdef SYS_mount_setattr
	SYS_mount_setattr,
#endif
#ifdef SYS_quotactl_fd
	SYS_quotactl_fd,
#endif
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
#ifdef SYS_uselib
	SYS_uselib,
#endif
#ifdef SYS_nfsservctl
	SYS_nfsservctl,
#endif
#ifdef SYS_pidfd_getfd
	SYS_pidfd_getfd,
#endif
#ifdef SYS_open_tree_attr
	SYS_open_tree_attr,
#endif
#ifdef SYS_listmount
	SYS_listmount, SYS_statmount,
#endif
};

#define MAX_INSNS 256

struct prog {
	struct sock_filter f[MAX_INSNS];
	unsigned short n;
};

static void emit(struct prog *p, struct sock_filter insn)
{
	if (p->n < MAX_INSNS)
		p->f[p->n] = insn;
	p->n++;
}

#define LD(off) (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JSET(k, t, f) (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (k), (t), (f))
#define JGE(k, t, f) (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f))
#define RET(v) (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v))
#define ALLOW RET(SECCOMP_RET_ALLOW)
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

static void deny_mode_bits(struct prog *p, int nr, int arg)
{
	emit(p, JEQ((unsigned)nr, 0, 4));
	emit(p, LD(ARG_LO(arg)));
	emit(p, JSET(S_ISUID | S_ISGID, 0, 1));
	emit(p, ERRNO(EPERM));
	emit(p, ALLOW);
}

int apply_seccomp(void)
{
	struct prog p = {.n = 0};
	emit(&p, LD(ARCH_OFF));
	emit(&p, JEQ(NATIVE_ARCH, 1, 0));
	emit(&p, RET(SECCOMP_RET_KILL_PROCESS));
	emit(&p, LD(NR_OFF));
#if defined(__x86_64__)
	emit(&p, JGE(0x40000000, 0, 1)); /* x32 ABI */
	emit(&p, RET(SECCOMP_RET_KILL_PROCESS));
#endif
	for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
		emit(&p, JEQ((unsigned)denied[i], 0, 1));
		emit(&p, ERRNO(EPERM));
	}
	/* clone3 passes its flags in memory, out of the filter's reach: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked below. */
	emit(&p, JEQ(SYS_clone3, 0, 1));
	emit(&p, ERRNO(ENOSYS));

	/* Each block below ends in RET, so the loaded argument never leaks into the next test. */
	const unsigned ns_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
				  CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	emit(&p, JEQ(SYS_clone, 0, 4));
	emit(&p, LD(ARG_LO(0)));
	emit(&p, JSET(ns_flags, 0, 1));
	emit(&p, ERRNO(EPERM));
	emit(&p, ALLOW);

	emit(&p, JEQ(SYS_socket, 1, 0));
	emit(&p, JEQ(SYS_socketpair, 0, 4));
	emit(&p, LD(ARG_LO(0)));
	emit(&p, JEQ(AF_UNIX, 1, 0));
	emit(&p, ERRNO(EAFNOSUPPORT));
	emit(&p, ALLOW);

	emit(&p, JEQ(SYS_ioctl, 0, 5));
	emit(&p, LD(ARG_LO(1)));
	emit(&p, JEQ(TIOCSTI, 1, 0));
	emit(&p, JEQ(TIOCLINUX, 0, 1));
	emit(&p, ERRNO(EPERM));
	emit(&p, ALLOW);

	/* personality: only the harmless values (query, default, 32-bit, no ASLR). */
	emit(&p, JEQ(SYS_personality, 0, 6));
	emit(&p, LD(ARG_LO(0)));
	emit(&p, JEQ(0, 3, 0));
	emit(&p, JEQ(0xffffffffU, 2, 0));
	emit(&p, JEQ(0x0040000, 1, 0)); /* ADDR_NO_RANDOMIZE */
	emit(&p, ERRNO(EPERM));
	emit(&p, ALLOW);

	/* No setuid or setgid bits: the job directory goes back to the builder's machine. */
#ifdef SYS_chmod
	deny_mode_bits(&p, SYS_chmod, 1);
#endif
	deny_mode_bits(&p, SYS_fchmod, 1);
	deny_mode_bits(&p, SYS_fchmodat, 2);
#ifdef SYS_fchmodat2
	deny_mode_bits(&p, SYS_fchmodat2, 2);
#else
	deny_mode_bits(&p, 452, 2);
#endif

	emit(&p, ALLOW);
	if (p.n > MAX_INSNS) {
		errno = E2BIG;
		return -1;
	}
	struct sock_fprog prog = {.len = p.n, .filter = p.f};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
