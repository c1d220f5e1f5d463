// PREFETCHL2, shared by the float32 matrix kernels (sgemm_avx512_amd64.s, sgemm_amd64.s),
// whose frames hold pfRuns, pfGap and pfStride at the same offsets: it fetches the next of
// the lines at R14 (up to R15) into L2, going on to the next run (pfGap bytes on, R15 pfStride
// bytes on) at the end of one while pfRuns says more are left. The last tiles of one block of
// B bring in the next block so, a few panels each, while they run (see blocked.sgemm).
#define PREFETCHL2 \
	CMPQ       R14, R15; \
	JB         6(PC); \
	CMPQ       pfRuns+112(FP), $1; \
	JLE        6(PC); \
	DECQ       pfRuns+112(FP); \
	ADDQ       pfGap+120(FP), R14; \
	ADDQ       pfStride+128(FP), R15; \
	PREFETCHT1 (R14); \
	ADDQ       $64, R14
