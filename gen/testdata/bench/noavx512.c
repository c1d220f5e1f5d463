// noavx512.so: run a program as if its CPU had no AVX-512 (nor AMX), so that `make compare` can
// time ONNX Runtime's AVX2 code beside vitc's AVX2 kernels on a CPU that has AVX-512.
//
//   gcc -O2 -shared -fPIC -o noavx512.so noavx512.c
//   LD_PRELOAD=./noavx512.so NOAVX512_REPORT=1 node ort.mjs ...
//
// ONNX Runtime's MLAS picks its kernels from CPUID when it starts and has no switch to turn
// AVX-512 off. Linux can make the CPUID instruction fault in a process (arch_prctl
// ARCH_SET_CPUID, on CPUs and hypervisors with "cpuid_fault" in /proc/cpuinfo): this library's
// constructor turns that on before the program's own code runs; its SIGSEGV handler answers
// each CPUID with the real one's result, less the AVX-512 and AMX feature bits (leaf 7), and
// steps over the instruction. Threads made later inherit the setting. The dynamic loader has
// already asked CPUID by then, so glibc's own string functions may still use AVX-512; only the
// program's choices change. XGETBV is not intercepted: it still reports the ZMM state enabled,
// which a program only consults once CPUID has said AVX-512F.
//
// The handler must stay installed: Node.js resets every signal's action when it starts, then
// installs its own SIGSEGV handler (for WebAssembly traps). So this library also stands in for
// sigaction and signal on SIGSEGV: the program's handler is recorded, not installed, and a
// SIGSEGV that is not a CPUID goes to it (or to the default action). With
// NOAVX512_REPORT=1 the library says at exit how many CPUIDs it answered and how many of them
// asked leaf 7 (the AVX-512 bits), on stderr. It first checks itself (one CPUID of its own must
// reach the handler and come back without AVX512F); if that fails, or the kernel refuses CPUID
// faulting, it says so and exits with status 3 rather than letting a run with AVX-512 pass for
// one without.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct sigaction previous; // the program's own SIGSEGV action
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static atomic_long answered;
static atomic_long leaf7;

static long set_cpuid(int enabled) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, enabled); }

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

// hide clears the AVX-512 and AMX bits of leaf 7's answer (Intel SDM vol. 2A, CPUID).
static void hide(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
	if (leaf != 7) {
		return;
	}
	if (sub == 0) {
		// EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31.
		r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
		// ECX: VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14.
		r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
		// EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22, FP16 23, AMX-TILE 24, AMX-INT8 25.
		r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
	} else if (sub == 1) {
		// EAX: AVX512_BF16 5 (AVX-VNNI, bit 4, is an AVX2-class extension and stays).
		r[0] &= ~(1u << 5);
	}
}

static void on_segv(int sig, siginfo_t *info, void *ctx) {
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	const unsigned char *ip = (const unsigned char *)g[REG_RIP];
	if (info->si_code == SI_KERNEL && ip[0] == 0x0f && ip[1] == 0xa2) {
		uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX], r[4];
		set_cpuid(1);
		cpuid(leaf, sub, r);
		set_cpuid(0);
		hide(leaf, sub, r);
		g[REG_RAX] = r[0];
		g[REG_RBX] = r[1];
		g[REG_RCX] = r[2];
		g[REG_RDX] = r[3];
		g[REG_RIP] += 2;
		atomic_fetch_add(&answered, 1);
		if (leaf == 7) {
			atomic_fetch_add(&leaf7, 1);
		}
		return;
	}
	if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != NULL) {
		previous.sa_sigaction(sig, info, ctx);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler != NULL) {
		previous.sa_handler(sig);
		return;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	real_sigaction(sig, &dfl, NULL); // the fault repeats on return and ends the process as it would have
}

// sigaction and signal keep this library's SIGSEGV handler in place and record the program's.
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
	if (real_sigaction == NULL) {
		real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	}
	if (sig != SIGSEGV) {
		return real_sigaction(sig, act, old);
	}
	if (old != NULL) {
		*old = previous;
	}
	if (act != NULL) {
		previous = *act;
	}
	return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old) != 0) {
		return SIG_ERR;
	}
	return old.sa_handler;
}

static void report(void) {
	fprintf(stderr, "noavx512: answered %ld CPUIDs (%ld of leaf 7) without AVX-512 and AMX\n",
		atomic_load(&answered), atomic_load(&leaf7));
}

__attribute__((constructor)) static void start(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	if (real_sigaction == NULL || real_sigaction(SIGSEGV, &sa, &previous) != 0 || set_cpuid(0) != 0) {
		perror("noavx512: arch_prctl(ARCH_SET_CPUID, 0) (is cpuid_fault in /proc/cpuinfo?)");
		_exit(3);
	}
	// Check the path end to end: this CPUID faults, and the handler must answer it.
	uint32_t r7[4];
	cpuid(7, 0, r7);
	if (atomic_load(&leaf7) != 1 || (r7[1] & (1u << 16)) != 0) {
		fprintf(stderr, "noavx512: CPUID was not intercepted; AVX-512 would stay visible\n");
		_exit(3);
	}
	atomic_store(&answered, 0);
	atomic_store(&leaf7, 0);
	const char *r = getenv("NOAVX512_REPORT");
	if (r != NULL && strcmp(r, "1") == 0) {
		atexit(report);
	}
}
