//go:build !purego

package asm

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
)

// lowpAMD64Kernel is one amd64 kernel set to test: a bf16 or an int8 product.
type lowpAMD64Kernel struct {
	name      string
	available bool
	bf16      lowpGemmBF16
	int8      lowpGemmInt8
}

// smallBlocks returns a copy of d with tiny cache blocks: k blocks of 3 steps, 2 tiles of rows
// per block (3 packed whole), 4 panels per block of B and calls of 2 panels, so that every
// blocking path runs on small sizes.
func smallBlocks(d *lowpDriver) *lowpDriver {
	s := *d
	s.kc = 3 * d.kAlign
	s.mc, s.mcWhole, s.nc, s.maxCall = 2*d.mr, 3*d.mr, 4, 1
	s.dynamic = false
	if d.dynamic { // AMX: rows 64-byte aligned
		s.aStride = s.kc*d.aBytesK + 64
	}
	s.pool = make(chan *lowpBuf, 4)
	return &s
}

// lowpAMD64Kernels lists every amd64 kernel (AMX only where the OS grants it), each also with
// smallBlocks.
func lowpAMD64Kernels() []lowpAMD64Kernel {
	var out []lowpAMD64Kernel
	amx := amxGranted()
	for _, kn := range []*lowpBF16Kernel{lowpWiden512, lowpDP512, lowpWidenAVX2, lowpAMXBF16} {
		small := *kn
		small.d = smallBlocks(kn.d)
		avail := kn.available && (kn != lowpAMXBF16 || amx)
		if kn == lowpAMXBF16 {
			tail := *lowpWiden512
			tail.d = smallBlocks(lowpWiden512.d)
			out = append(out,
				lowpAMD64Kernel{name: "bf16/amx", available: avail, bf16: (&lowpBF16AMX{kn, lowpWiden512}).gemm},
				lowpAMD64Kernel{name: "bf16/amx/small-blocks", available: avail, bf16: (&lowpBF16AMX{&small, &tail}).gemm})
			continue
		}
		out = append(out,
			lowpAMD64Kernel{name: "bf16/" + kn.name, available: avail, bf16: kn.gemm},
			lowpAMD64Kernel{name: "bf16/" + kn.name + "/small-blocks", available: avail, bf16: small.gemm})
	}
	for _, kn := range []*lowpInt8Kernel{lowpVNNI512, lowpAVXVNNI, lowpMADDWD, lowpAMXInt8} {
		small := *kn
		small.d = smallBlocks(kn.d)
		avail := kn.available && (kn != lowpAMXInt8 || amx)
		if kn == lowpAMXInt8 {
			tail := *lowpVNNI512
			tail.d = smallBlocks(lowpVNNI512.d)
			out = append(out,
				lowpAMD64Kernel{name: "int8/amx", available: avail, int8: (&lowpInt8AMX{kn, lowpVNNI512}).gemm},
				lowpAMD64Kernel{name: "int8/amx/small-blocks", available: avail, int8: (&lowpInt8AMX{&small, &tail}).gemm})
			continue
		}
		out = append(out,
			lowpAMD64Kernel{name: "int8/" + kn.name, available: avail, int8: kn.gemm},
			lowpAMD64Kernel{name: "int8/" + kn.name + "/small-blocks", available: avail, int8: small.gemm})
	}
	return out
}

// TestLowpAMD64Kernels checks every amd64 kernel, whichever the variants choose, on the sizes
// of lowpSweep, with the real cache blocks and with tiny ones.
func TestLowpAMD64Kernels(t *testing.T) {
	for i, kn := range lowpAMD64Kernels() {
		if !kn.available {
			t.Logf("%s: not available on this CPU", kn.name)
			continue
		}
		bf16, i8 := kn.bf16, kn.int8
		if bf16 == nil {
			bf16 = gemmBF16Generic
		}
		if i8 == nil {
			i8 = gemmInt8Generic
		}
		lowpSweep(t, kn.name, bf16, i8, uint64(100+i))
	}
}

// TestLowpAMD64KTails: AMX takes k in steps of 32 (bf16) or 64 (int8) and leaves the rest to a
// vector kernel; every remainder, with each epilogue.
func TestLowpAMD64KTails(t *testing.T) {
	if !amxGranted() || !lowpAMXBF16.available || !lowpAMXInt8.available {
		t.Skip("no AMX")
	}
	r := rand.New(rand.NewPCG(31, 32))
	bf16 := (&lowpBF16AMX{lowpAMXBF16, lowpWiden512}).gemm
	i8 := (&lowpInt8AMX{lowpAMXInt8, lowpVNNI512}).gemm
	for _, k := range []int{31, 32, 33, 63, 64, 65, 95, 127, 128, 129, 191, 200} {
		for _, epi := range []Epilogue{Store, Accumulate, GELU} {
			p := newLowpProblem(r, 37, 49, k, epi, true)
			p.runBF16(t, "amx", bf16)
			p.runInt8(t, "amx", i8)
		}
	}
}

// TestLowpPackers checks the assembly packing routines against the Go ones bit for bit, on
// every length to 70 and on the values where rounding is delicate: ties, subnormals, NaN,
// infinities, the largest floats, and quantizer inputs outside the row's range (clamping).
func TestLowpPackers(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	special := []uint32{0x3f808000, 0x3f818000, 0xbf808000, 0x3f807fff, 0x3f808001, 0x7f7fffff, 0xff7fffff,
		0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7f80ffff, 0x00000000, 0x80000000,
		0x00018000, 0x807fffff, 0x00800000, 0x00808000, 0x3effffff}
	type rounder struct {
		name  string
		ok    bool
		round func(dst, x []float32)
	}
	f32s := []rounder{{"avx512", cpu.X86.HasAVX512F, roundF32AVX512}, {"avx2", hasAVX2, roundF32AVX2}}
	for n := 0; n <= 70; n++ {
		x := randSlice(r, n)
		for i := range x {
			if r.IntN(3) == 0 {
				x[i] = math.Float32frombits(special[r.IntN(len(special))])
			} else if r.IntN(3) == 0 {
				x[i] = math.Float32frombits(math.Float32bits(x[i])&0xffff0000 | 0x8000) // a tie
			}
		}
		want := make([]float32, n)
		roundF32Generic(want, x)
		for _, f := range f32s {
			if !f.ok {
				continue
			}
			got := make([]float32, n)
			f.round(got, x)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("roundF32 %s n=%d: %#08x → %#08x, want %#08x", f.name, n, math.Float32bits(x[i]), math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
		if lowpDP512.available {
			wantB, got := make([]uint16, n), make([]uint16, n)
			roundBF16Generic(wantB, x)
			roundBF16AVX512(got, x)
			for i := range got {
				if got[i] != wantB[i] {
					t.Fatalf("roundBF16 avx512 n=%d: %#08x → %#04x, want %#04x", n, math.Float32bits(x[i]), got[i], wantB[i])
				}
			}
		}
		// Quantizers and ranges, on finite values.
		for i := range x {
			if v := float64(x[i]); math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e30 {
				x[i] = float32(r.NormFloat64())
			}
		}
		lo, hi := rangeGeneric(x)
		for _, rg := range []struct {
			name string
			ok   bool
			f    func([]float32) (float32, float32)
		}{{"avx512", cpu.X86.HasAVX512F, rangeAVX512}, {"avx2", hasAVX2, rangeAVX2}} {
			if rg.ok {
				if l, h := rg.f(x); l != lo || h != hi {
					t.Fatalf("range %s n=%d: %g %g, want %g %g", rg.name, n, l, h, lo, hi)
				}
			}
		}
		type quant struct {
			name string
			ok   bool
			f    func([]uint8, []float32, float32, int32)
		}
		quants := []quant{{"avx512", cpu.X86.HasAVX512F, quantU8AVX512}, {"avx2", hasAVX2, quantU8AVX2}}
		_, inv0, z0 := quantParams(lo, hi)
		// The row's own parameters, then others that clamp many values to 0 or 255.
		for _, q := range []struct {
			inv float32
			z   int32
		}{{inv0, z0}, {2, 7}, {100, 128}, {100, 0}, {-30, 255}, {0, 0}} {
			want := make([]uint8, n)
			quantU8Generic(want, x, q.inv, q.z)
			for _, qu := range quants {
				if !qu.ok {
					continue
				}
				got := make([]uint8, n)
				qu.f(got, x, q.inv, q.z)
				if !bytes.Equal(got, want) {
					t.Fatalf("quantU8 %s n=%d inv=%g zp=%d: %v, want %v", qu.name, n, q.inv, q.z, got, want)
				}
			}
			if hasAVX2 {
				want16, got := make([]int16, n), make([]int16, n)
				quantI16Generic(want16, x, q.inv, q.z)
				quantI16AVX2(got, x, q.inv, q.z)
				for i := range got {
					if got[i] != want16[i] {
						t.Fatalf("quantI16 avx2 n=%d: element %d = %d, want %d", n, i, got[i], want16[i])
					}
				}
			}
		}
	}
	// Ties of the quantizer: x·inv = j + 0.5 exactly go to the even j.
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i-32) + 0.5
	}
	want := make([]uint8, len(x))
	quantU8Generic(want, x, 1, 100)
	for i, v := range want {
		if int(v) != int(math.RoundToEven(float64(x[i])))+100 {
			t.Fatalf("quantize tie %g → %d", x[i], v)
		}
	}
	for _, qu := range []struct {
		ok bool
		f  func([]uint8, []float32, float32, int32)
	}{{cpu.X86.HasAVX512F, quantU8AVX512}, {hasAVX2, quantU8AVX2}} {
		if qu.ok {
			got := make([]uint8, len(x))
			qu.f(got, x, 1, 100)
			if !bytes.Equal(got, want) {
				t.Fatalf("quantize ties: %v, want %v", got, want)
			}
		}
	}
}

// TestLowpEncodings checks the BYTE and WORD encodings of lowp_amd64.h and lowp_arm64.h
// against GNU as for every register combination the macros can take, where the GNU
// assemblers and objdumps (binutils, binutils-aarch64-linux-gnu) are at hand.
func TestLowpEncodings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the assemblers")
	}
	var goSrc, gnuSrc []string
	add := func(g, n string) { goSrc, gnuSrc = append(goSrc, g), append(gnuSrc, n) }
	gp := []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	for d := 0; d < 32; d++ {
		for s := 0; s < 32; s++ {
			add(fmt.Sprintf("VDPBF16PS_Z(%d, %d, %d)", d, s, (d+s*7)%32), fmt.Sprintf("vdpbf16ps zmm%d, zmm%d, zmm%d", d, s, (d+s*7)%32))
			add(fmt.Sprintf("VCVTNEPS2BF16_Z(%d, %d)", d, s), fmt.Sprintf("vcvtneps2bf16 ymm%d, zmm%d", d, s))
		}
	}
	for d := 0; d < 16; d++ {
		for s1 := 0; s1 < 16; s1++ {
			for s2 := 0; s2 < 16; s2++ {
				add(fmt.Sprintf("VPDPBUSD_VEX(%d, %d, %d)", d, s1, s2), fmt.Sprintf("{vex} vpdpbusd ymm%d, ymm%d, ymm%d", d, s1, s2))
			}
		}
	}
	for tm := 0; tm < 8; tm++ {
		add(fmt.Sprintf("TILEZERO(%d)", tm), fmt.Sprintf("tilezero tmm%d", tm))
		for a := 0; a < 8; a++ {
			for b := 0; b < 8; b++ {
				if tm != a && tm != b && a != b {
					add(fmt.Sprintf("TDPBF16PS(%d, %d, %d)", tm, a, b), fmt.Sprintf("tdpbf16ps tmm%d, tmm%d, tmm%d", tm, a, b))
					add(fmt.Sprintf("TDPBUSD(%d, %d, %d)", tm, a, b), fmt.Sprintf("tdpbusd tmm%d, tmm%d, tmm%d", tm, a, b))
				}
			}
		}
		for base := 0; base < 16; base++ {
			if base == 4 || base == 5 || base == 12 || base == 13 {
				continue
			}
			for idx := 0; idx < 16; idx++ {
				if idx == 4 {
					continue
				}
				add(fmt.Sprintf("TILELOADD(%d, %d, %d)", tm, base, idx), fmt.Sprintf("tileloadd tmm%d, [%s+%s*1]", tm, gp[base], gp[idx]))
				add(fmt.Sprintf("TILESTORED(%d, %d, 2112, %d)", base, idx, tm), fmt.Sprintf("tilestored [%s+%s*1+0x840], tmm%d", gp[base], gp[idx], tm))
			}
		}
	}
	add("LDTILECFG_DI", "ldtilecfg [rdi]")
	add("TILERELEASE", "tilerelease")
	t.Run("amd64", func(t *testing.T) {
		checkEncodings(t, "amd64", "lowp_amd64.h", goSrc, ".intel_syntax noprefix", gnuSrc, "as", []string{"--64"}, "objdump")
	})

	goSrc, gnuSrc = nil, nil
	for d := 0; d < 32; d++ {
		for n := 0; n < 32; n++ {
			m, i := (d*5+n*3)%32, (d+n)%4
			add(fmt.Sprintf("FMLA_E(%d, %d, %d, %d)", d, n, m, i), fmt.Sprintf("fmla v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i))
			add(fmt.Sprintf("SDOT_E(%d, %d, %d, %d)", d, n, m, i), fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, i))
			add(fmt.Sprintf("SMULL_8B(%d, %d, %d)", d, n, m), fmt.Sprintf("smull v%d.8h, v%d.8b, v%d.8b", d, n, m))
			add(fmt.Sprintf("SMULL2_16B(%d, %d, %d)", d, n, m), fmt.Sprintf("smull2 v%d.8h, v%d.16b, v%d.16b", d, n, m))
			add(fmt.Sprintf("ADDP_4S(%d, %d, %d)", d, n, m), fmt.Sprintf("addp v%d.4s, v%d.4s, v%d.4s", d, n, m))
			add(fmt.Sprintf("ADD_4S(%d, %d, %d)", d, n, m), fmt.Sprintf("add v%d.4s, v%d.4s, v%d.4s", d, n, m))
			add(fmt.Sprintf("SADALP_4S(%d, %d)", d, n), fmt.Sprintf("sadalp v%d.4s, v%d.8h", d, n))
			add(fmt.Sprintf("SHL16_4S(%d, %d)", d, n), fmt.Sprintf("shl v%d.4s, v%d.4s, #16", d, n))
		}
		add(fmt.Sprintf("BIC_LO16(%d)", d), fmt.Sprintf("bic v%d.4s, #0xff\nbic v%d.4s, #0xff, lsl #8", d, d))
	}
	t.Run("arm64", func(t *testing.T) {
		checkEncodings(t, "arm64", "lowp_arm64.h", goSrc, "", gnuSrc, "aarch64-linux-gnu-as", []string{"-march=armv8.2-a+dotprod"}, "aarch64-linux-gnu-objdump")
	})
}

// checkEncodings assembles goSrc (macro calls of header) with go tool asm for goarch and
// gnuSrc with GNU as, and compares the machine code instruction by instruction.
func checkEncodings(t *testing.T, goarch, header string, goSrc []string, gnuHeader string, gnuSrc []string, as string, asFlags []string, objdump string) {
	as, err1 := exec.LookPath(as)
	objdump, err2 := exec.LookPath(objdump)
	goBin, err3 := exec.LookPath("go")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Skipf("no %s, %s or go command", as, objdump)
	}
	goroot, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	dir := t.TempDir()
	hdr, err := os.ReadFile(header)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(header, string(hdr))
	write("e.s", "#include \"textflag.h\"\n#include \""+header+"\"\nTEXT ·f(SB), NOSPLIT, $0\n\t"+strings.Join(goSrc, "\n\t")+"\n\tRET\n")
	write("g.s", gnuHeader+"\n"+strings.Join(gnuSrc, "\n")+"\n")
	run := func(env []string, name string, args ...string) []byte {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return out
	}
	goOut := run([]string{"GOARCH=" + goarch}, goBin, "tool", "asm", "-I", filepath.Join(strings.TrimSpace(string(goroot)), "pkg", "include"), "-I", dir, "-p", "enc", "-S", "-o", os.DevNull, "e.s")
	run(nil, as, append(asFlags, "g.s", "-o", "g.o")...)
	dis := run(nil, objdump, "-d", "--insn-width=16", "g.o")

	// go tool asm -S lists each BYTE, WORD and LONG with its source line (the first macro
	// call is on line 4).
	perLine := make([][]byte, len(goSrc))
	re := regexp.MustCompile(`\(e\.s:(\d+)\)\s+(BYTE|WORD|LONG)\s+\$(-?\d+)`)
	for _, m := range re.FindAllStringSubmatch(string(goOut), -1) {
		line, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseInt(m[3], 10, 64)
		if line-4 < 0 || line-4 >= len(goSrc) {
			continue
		}
		n := 4
		if m[2] == "BYTE" {
			n = 1
		}
		for i := 0; i < n; i++ {
			perLine[line-4] = append(perLine[line-4], byte(v>>(8*i)))
		}
	}
	var gnu []byte
	reDis := regexp.MustCompile(`(?m)^\s*[0-9a-f]+:\t((?:[0-9a-f]+ )+)`)
	for _, m := range reDis.FindAllStringSubmatch(string(dis), -1) {
		for _, h := range strings.Fields(m[1]) {
			v, _ := strconv.ParseUint(h, 16, 64)
			for i := 0; i < len(h)/2; i++ { // x86: bytes in order; arm64: one little-endian word
				if len(h) == 2 {
					gnu = append(gnu, byte(v))
				} else {
					gnu = append(gnu, byte(v>>(8*i)))
				}
			}
		}
	}
	off := 0
	for i, b := range perLine {
		if len(b) == 0 || off+len(b) > len(gnu) || !bytes.Equal(b, gnu[off:off+len(b)]) {
			end := min(len(gnu), off+len(b))
			t.Fatalf("%s: % x, GNU as %q gives % x", goSrc[i], b, gnuSrc[i], gnu[off:end])
		}
		off += len(b)
	}
	if off != len(gnu) {
		t.Fatalf("%d bytes from go tool asm, %d from GNU as", off, len(gnu))
	}
	t.Logf("%d encodings match GNU as", len(goSrc))
}

// TestLowpPeak measures the issue rate of the instructions the kernels are built on, on
// registers (or tiles) alone, and logs it next to VFMADD231PS's: the ceilings of the kernels.
func TestLowpPeak(t *testing.T) {
	rate := func(loop func(int), macs float64) float64 {
		loop(200)
		var rates []float64
		for range 7 {
			start := time.Now()
			loop(20000)
			rates = append(rates, 20000*macs/time.Since(start).Seconds())
		}
		sort.Float64s(rates)
		return rates[len(rates)-2] // the second best: a shared machine
	}
	type loop struct {
		name  string
		ok    bool
		f     func(int)
		instr float64 // instructions an iteration
		macs  float64 // multiply-adds an iteration
	}
	amx := amxGranted()
	loops := []loop{
		{"VFMADD231PS zmm", cpu.X86.HasAVX512F, fmaLoopAVX512, 12, 12 * 16},
		{"VDPBF16PS zmm", lowpDP512.available, lowpDPBF16Loop, 24, 24 * 32},
		{"VPDPBUSD zmm", lowpVNNI512.available, lowpVNNILoop, 24, 24 * 64},
		{"VFMADD231PS ymm", hasAVX2, fmaLoopAVX2, 12, 12 * 8},
		{"VPDPBUSD ymm (AVX-VNNI)", lowpAVXVNNI.available, lowpAVXVNNILoop, 24, 24 * 32},
		{"VPMADDWD+VPADDD ymm", hasAVX2, lowpMADDWDLoop, 12, 12 * 16},
		{"TDPBF16PS", lowpAMXBF16.available && amx, func(n int) { lowpTDPBF16PSLoop(&amxConfig[0], n/8+1) }, 4.0 / 8, 4 * 16 * 16 * 32 / 8},
		{"TDPBUSD", lowpAMXInt8.available && amx, func(n int) { lowpTDPBUSDLoop(&amxConfig[0], n/8+1) }, 4.0 / 8, 4 * 16 * 16 * 64 / 8},
	}
	for _, l := range loops {
		if !l.ok {
			t.Logf("%-24s not available", l.name)
			continue
		}
		macs := rate(l.f, l.macs)
		t.Logf("%-24s %7.3f G instructions/s  %7.0f G multiply-adds/s  (%6.0f GFLOP/s)", l.name, macs/l.macs*l.instr/1e9, macs/1e9, 2*macs/1e9)
	}
}

// BenchmarkLowpKernels times every amd64 kernel, single-threaded, on vitb14's shapes at batch
// 8, next to the float32 Sgemm of each variant (GFLOP/s counts 2·m·n·k). Run with -count 5 or
// more on a shared machine and compare medians.
func BenchmarkLowpKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(35, 36))
	kernels := lowpAMD64Kernels()
	for _, s := range lowpBenchShapes {
		a := randSlice(r, s.m*s.k)
		w := randSlice(r, s.n*s.k)
		bias := randSlice(r, s.n)
		wf := pack(w, s.n, s.k)
		wb := PackBF16(w, s.n, s.k)
		wq, scales, sums := PackInt8(w, s.n, s.k)
		c := make([]float32, s.m*s.n)
		shape := fmt.Sprintf("M=%d,N=%d,K=%d", s.m, s.n, s.k)
		for _, v := range amd64Variants {
			if !v.available {
				continue
			}
			bl := v.blocked()
			b.Run("f32/"+v.name+"/"+shape, func(b *testing.B) {
				for b.Loop() {
					bl.sgemm(s.m, s.n, s.k, a, s.k, wf, c, s.n, bias, Store)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		for _, kn := range kernels {
			if !kn.available || strings.HasSuffix(kn.name, "small-blocks") {
				continue
			}
			b.Run(kn.name+"/"+shape, func(b *testing.B) {
				for b.Loop() {
					if kn.bf16 != nil {
						kn.bf16(s.m, s.n, s.k, a, s.k, wb, c, s.n, bias, Store)
					} else {
						kn.int8(s.m, s.n, s.k, a, s.k, wq, scales, sums, c, s.n, bias, Store)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
