/* The engine's sandbox (see sandbox.h): an allow-list of system calls,
 * loaded into every thread once the machine is set up.
 *
 * The list is what the engine's threads make while a machine runs and
 * resets: a reset reads the kernel or firmware again and the control
 * interface opens discs and writes screenshots, so opening files stays
 * allowed, and KVM's requests are allowed by their type. What
 * it takes away is everything else a compromised engine would reach for:
 * running programs, forking, tracing or reading other processes, mounts,
 * namespaces, kernel modules, BPF, keyrings, raising its limits, ioctls
 * other than KVM's, DRM's and a few named ones, and sockets other than
 * UNIX and IP ones. README.md says what it does not stop. */
#include "sandbox.h"

#include <errno.h>
#include <glib.h>
#include <linux/if_tun.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* Calls allowed whatever their arguments, by who needs them. */
static const char *const allowed_calls[] = {
	/* memory: malloc, thread stacks, guest RAM and KVM's vCPU run areas */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* threads (clone itself is below) and their synchronisation */
	"futex", "set_robust_list", "rseq", "set_tid_address", "gettid", "getpid", "sched_yield",
	"sched_getaffinity", "sched_getattr", "exit", "exit_group",
	/* GLib's thread pool (GDBus, GTask) gives each new thread the
	 * scheduling of the one that asked for it, by thread ID: a filter
	 * cannot tell a thread ID of this process from another's */
	"sched_setattr",
	/* signals: GLib's signal watches, the vCPU kick, this file's SIGSYS handler */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	/* a call interrupted by a stop signal (Ctrl+Z, a debugger) goes on */
	"restart_syscall",
	/* time: the main loops, timers of devices and of libvncserver */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
	"timerfd_create", "timerfd_settime", "timerfd_gettime",
	/* files: disk images, discs the control interface changes in, kernels
	 * and firmware read again at each reset, screenshots, serial files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
	"openat", "open", "close", "newfstatat", "fstat", "stat", "lstat", "statx", "statfs", "fstatfs",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "fcntl",
	"dup", "dup2", "dup3", "pipe2", "eventfd2", "fsync", "fdatasync", "fallocate", "ftruncate",
	"flock", "unlink", "unlinkat", "rename", "renameat", "renameat2", "chmod", "fchmod", "umask",
	"getcwd",
	/* waiting for descriptors: GLib, libvncserver's select(), SDL, slirp */
	"poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	/* sockets (socket itself is below): slirp, VNC, the control interface,
	 * the X11 or Wayland connection, serial sockets */
	"socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown",
	/* the SDL window's frames to the X server (MIT-SHM) or the Wayland
	 * compositor (shared memory files) */
	"shmget", "shmat", "shmdt", "shmctl", "memfd_create",
	/* questions about the process and the host: GLib, D-Bus credentials, virtio-rng */
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "uname", "sysinfo", "getrandom",
};

/* Calls allowed when one argument, masked, has a value. */
#define WHOLE (~(scmp_datum_t)0)
#define IOCTL_REQUEST 0xffffffffu /* the kernel reads an ioctl's request as an unsigned int */
#define DRM_IOCTL_TYPE 'd'       /* DRM_IOCTL_BASE in the kernel's uapi drm.h */
struct arg_rule {
	const char *call;
	unsigned arg;
	scmp_datum_t mask;
	scmp_datum_t value;
};

static const struct arg_rule arg_rules[] = {
	/* a thread of this process, never a new process */
	{ "clone", 0, CLONE_THREAD, CLONE_THREAD },
	/* every KVM request (type KVMIO, the kernel's Documentation/userspace-api/
	 * ioctl/ioctl-number.rst); the serial console's terminal on stdio
	 * (isatty, and raw mode given back at exit); slirp's and libvncserver's
	 * socket requests. Not TIOCSTI and the other terminal requests. */
	{ "ioctl", 1, 0xff00, KVMIO << 8 },
	{ "ioctl", 1, IOCTL_REQUEST, TCGETS },
	{ "ioctl", 1, IOCTL_REQUEST, TCSETS },
	{ "ioctl", 1, IOCTL_REQUEST, FIONREAD },
	{ "ioctl", 1, IOCTL_REQUEST, FIONBIO },
	/* the SDL window's accelerated renderer: Mesa's GPU drivers talk to
	 * the DRM render node they opened at set-up (type 'd') */
	{ "ioctl", 1, 0xff00, DRM_IOCTL_TYPE << 8 },
	/* each run opens its tap interface again (net_tap.c) */
	{ "ioctl", 1, IOCTL_REQUEST, TUNSETIFF },
	/* the size of a block device the control interface puts in a CD-ROM
	 * drive (block.c) */
	{ "ioctl", 1, IOCTL_REQUEST, BLKGETSIZE64 },
	/* reading limits, not raising them */
	{ "prlimit64", 2, WHOLE, 0 },
	{ "prctl", 0, WHOLE, PR_SET_NAME },
	{ "prctl", 0, WHOLE, PR_GET_NAME },
	/* UNIX and IP sockets; not netlink, packet or other families */
	{ "socket", 0, WHOLE, AF_UNIX },
	{ "socket", 0, WHOLE, AF_INET },
	{ "socket", 0, WHOLE, AF_INET6 },
};

/* Calls libseccomp does not know on this system are left out: the engine
 * does not use them there either. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *call, unsigned count,
		    const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(call);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(ctx, action, nr, count, args);
}

static int add_arg_rule(scmp_filter_ctx ctx, const struct arg_rule *rule)
{
	struct scmp_arg_cmp cmp = { rule->arg, SCMP_CMP_MASKED_EQ, rule->mask, rule->value };
	return add_rule(ctx, SCMP_ACT_ALLOW, rule->call, 1, &cmp);
}

/* AddressSanitizer (with LeakSanitizer): gcc says so with a macro, clang
 * with a feature test. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

#ifdef SANITIZER_BUILD
/* Sanitizer builds only: LeakSanitizer's check at exit stops the threads
 * with ptrace from a tracer it clones without CLONE_THREAD. */
static const char *const sanitizer_calls[] = { "ptrace", "wait4", "getppid", "getdents" };
static const struct arg_rule sanitizer_rules[] = {
	{ "clone", 0, CLONE_VM, CLONE_VM },
	{ "prctl", 0, WHOLE, PR_GET_DUMPABLE },
	{ "prctl", 0, WHOLE, PR_SET_DUMPABLE },
	{ "prctl", 0, WHOLE, PR_SET_PTRACER },
	{ "prctl", 0, WHOLE, PR_SET_PDEATHSIG },
};
#endif

static int add_calls(scmp_filter_ctx ctx, const char *const *calls, size_t count)
{
	int ret = 0;
	for (size_t i = 0; i < count && !ret; i++)
		ret = add_rule(ctx, SCMP_ACT_ALLOW, calls[i], 0, NULL);
	return ret;
}

static int add_arg_rules(scmp_filter_ctx ctx, const struct arg_rule *rules, size_t count)
{
	int ret = 0;
	for (size_t i = 0; i < count && !ret; i++)
		ret = add_arg_rule(ctx, &rules[i]);
	return ret;
}

static int add_rules(scmp_filter_ctx ctx)
{
	/* signals to this process's own threads: the vCPU kick */
	const struct arg_rule own_signals = { "tgkill", 0, WHOLE, (scmp_datum_t)getpid() };
	int ret = add_calls(ctx, allowed_calls, G_N_ELEMENTS(allowed_calls));
	if (!ret)
		ret = add_arg_rules(ctx, arg_rules, G_N_ELEMENTS(arg_rules));
	if (!ret)
		ret = add_arg_rule(ctx, &own_signals);
	/* clone3 passes its flags in memory a filter cannot read: it fails
	 * with ENOSYS, and glibc's pthread_create falls back to clone */
	if (!ret)
		ret = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
#ifdef SANITIZER_BUILD
	if (!ret)
		ret = add_calls(ctx, sanitizer_calls, G_N_ELEMENTS(sanitizer_calls));
	if (!ret)
		ret = add_arg_rules(ctx, sanitizer_rules, G_N_ELEMENTS(sanitizer_rules));
#endif
	return ret;
}

/* The names the SIGSYS handler prints, looked up before the filter is on:
 * the handler may only make async-signal-safe calls. */
#define NAMED_CALLS 512
static const char *call_names[NAMED_CALLS];
static uint32_t native_arch;

static void name_calls(void)
{
	native_arch = seccomp_arch_native();
	for (int nr = 0; nr < NAMED_CALLS; nr++)
		call_names[nr] = seccomp_syscall_resolve_num_arch(native_arch, nr);
}

static size_t append(char *buf, size_t at, const char *text)
{
	size_t n = strlen(text);
	memcpy(buf + at, text, n);
	return at + n;
}

static size_t append_number(char *buf, size_t at, unsigned number)
{
	char digits[12];
	size_t n = 0;
	do
		digits[n++] = (char)('0' + number % 10);
	while ((number /= 10));
	while (n)
		buf[at++] = digits[--n];
	return at;
}

/* SECCOMP_RET_TRAP: the call did not happen; say which one it was and end
 * the engine. Only write() and _exit(), both allowed and signal-safe. */
static void on_forbidden_call(int sig, siginfo_t *info, void *context)
{
	(void)sig, (void)context;
	unsigned nr = (unsigned)info->si_syscall;
	const char *name = info->si_arch != native_arch ? "of another architecture"
			 : nr < NAMED_CALLS && call_names[nr] ? call_names[nr] : "unknown";
	char line[160];
	size_t n = append(line, 0, "vireo-engine: sandbox: forbidden system call ");
	n = append_number(line, n, nr);
	n = append(line, n, " (");
	n = append(line, n, name);
	n = append(line, n, ")\n");
	ssize_t written = write(STDERR_FILENO, line, n);
	(void)written;
	_exit(EXIT_FAILURE);
}

static bool catch_forbidden_calls(char **error)
{
	struct sigaction action = { .sa_sigaction = on_forbidden_call, .sa_flags = SA_SIGINFO };
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGSYS, &action, NULL) < 0) {
		*error = g_strdup_printf("sandbox: cannot catch SIGSYS: %s", g_strerror(errno));
		return false;
	}
	return true;
}

bool sandbox_apply(char **error)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*error = g_strdup_printf("sandbox: cannot set no new privileges: %s", g_strerror(errno));
		return false;
	}
	name_calls();
	if (!catch_forbidden_calls(error))
		return false;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		*error = g_strdup("sandbox: libseccomp cannot start a filter");
		return false;
	}
	/* no new privileges is set above; TSYNC gives it and the filter to
	 * every thread */
	int ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = add_rules(ctx);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		*error = g_strdup_printf("sandbox: cannot load the seccomp filter: %s", g_strerror(-ret));
		return false;
	}
	return true;
}
