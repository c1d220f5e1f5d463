//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// neonKernels are the NEON kernels and whether this CPU runs them.
func neonKernels() []struct {
	nl *neonLowp
	ok bool
} {
	return []struct {
		nl *neonLowp
		ok bool
	}{
		{neonWiden, true},
		{neonBFDOT, hasBF16()},
		{neonSDOT, cpu.ARM64.HasASIMDDP},
		{neonI8MM, cpu.ARM64.HasI8MM},
		{neonSMULL, true},
	}
}

// TestLowpNEONKernels checks each NEON kernel this CPU runs, whichever the variant chooses, on
// the sizes of lowpSweep, also with a tiny k per call (the tile carried from call to call) and
// few rows packed at once. A bf16 kernel is swept with neon-smull, an int8 one with neon-widen.
func TestLowpNEONKernels(t *testing.T) {
	t.Logf("DotProd %v, I8MM %v, BF16 %v", cpu.ARM64.HasASIMDDP, cpu.ARM64.HasI8MM, hasBF16())
	for i, kn := range neonKernels() {
		nl := kn.nl
		if !kn.ok {
			t.Logf("%s: not on this CPU", nl.name)
			continue
		}
		small := *nl
		small.maxK, small.mc = 16, 2*nl.mr // k in calls of 16: the tile carried over
		bf, i8 := neonWiden, neonSMULL
		sbf, si8 := neonWiden, neonSMULL
		if nl.int8K != nil {
			i8, si8 = nl, &small
		} else {
			bf, sbf = nl, &small
		}
		lowpSweep(t, nl.name, bf.gemmBF16, i8.gemmInt8, uint64(200+i))
		lowpSweep(t, nl.name+"/small-blocks", sbf.gemmBF16, si8.gemmInt8, uint64(210+i))
	}
}

// TestLowpNEONInt8Agree: the int8 kernels sum the same bytes exactly in int32, so every one this
// CPU runs gives neon-smull's results bit for bit (whole, and k in calls of 16 and 48).
func TestLowpNEONInt8Agree(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, kn := range neonKernels() {
		nl := kn.nl
		if !kn.ok || nl.int8K == nil || nl == neonSMULL {
			continue
		}
		for _, s := range [][3]int{{1, 1, 1}, {6, 16, 8}, {7, 17, 12}, {13, 33, 100}, {29, 47, 4}, {50, 20, 77}, {12, 32, 2100}} {
			p := newLowpProblem(r, s[0], s[1], s[2], Store, true)
			b, scales, sums := PackInt8(p.w, p.n, p.k)
			run := func(nl *neonLowp) []float32 {
				c := append([]float32(nil), p.c...)
				nl.gemmInt8(p.m, p.n, p.k, p.a, p.lda, b, scales, sums, c, p.ldc, p.bias, p.epi)
				return c
			}
			want := run(neonSMULL)
			for _, maxK := range []int{2048, 16, 48} {
				v := *nl
				v.maxK = maxK
				got := run(&v)
				for e := range got {
					if math.Float32bits(got[e]) != math.Float32bits(want[e]) {
						t.Fatalf("%s maxK=%d m=%d n=%d k=%d: element %d = %g, neon-smull %g", nl.name, maxK, p.m, p.n, p.k, e, got[e], want[e])
					}
				}
			}
		}
		t.Logf("%s: the same bits as neon-smull", nl.name)
	}
}

// bfRoundOdd is the Arm ARM's BFRound (FPCR.EBF = 0): the exact x rounded to float32 to odd
// (truncated, and the last bit set where that was inexact), to zero of x's sign below 2⁻¹²⁶
// (denormal results are flushed, whatever the rounding) and to an infinity above the largest
// float32 exponent.
func bfRoundOdd(x *big.Float) float32 {
	if x.Sign() == 0 {
		return 0
	}
	sign := float32(1)
	if x.Signbit() {
		sign = -1
	}
	switch e := x.MantExp(nil) - 1; { // |x| in [2^e, 2^(e+1))
	case e < -126:
		return sign * 0
	case e > 127:
		return sign * float32(math.Inf(1))
	}
	var tr big.Float
	tr.SetPrec(24).SetMode(big.ToZero).Set(x)
	f, _ := tr.Float32() // exact: 24 bits, a normal exponent
	if tr.Cmp(x) != 0 {
		f = math.Float32frombits(math.Float32bits(f) | 1)
	}
	return f
}

// bfdotAdd is the Arm ARM's BFDotAdd with FPCR.EBF = 0, the operation of each lane of BFDOT:
// sum + (a0·b0 + a1·b1), each product, their sum and the accumulation rounded with bfRoundOdd,
// denormal inputs (bfloat16 or float32) taken as zero.
func bfdotAdd(sum float32, a0, a1, b0, b1 uint16) float32 {
	ftz := func(f float32) float64 {
		if math.Float32bits(f)&0x7f800000 == 0 {
			return 0
		}
		return float64(f)
	}
	exact := func(x, y float64) *big.Float { // x + y, exactly (float32 operands: < 300 bits)
		z := new(big.Float).SetPrec(300)
		return z.Add(big.NewFloat(x), big.NewFloat(y))
	}
	t0 := bfRoundOdd(big.NewFloat(ftz(bf16ToFloat(a0)) * ftz(bf16ToFloat(b0)))) // exact in float64
	t1 := bfRoundOdd(big.NewFloat(ftz(bf16ToFloat(a1)) * ftz(bf16ToFloat(b1))))
	t := bfRoundOdd(exact(float64(t0), float64(t1)))
	return bfRoundOdd(exact(ftz(sum), float64(t)))
}

// TestLowpBFDOTRounding runs lowpBF16BFDOT6x16 on random tiles with awkward values (products
// that cancel, products below 2⁻¹²⁶, subnormal weights, a subnormal starting sum) and checks
// every sum bit for bit against bfdotAdd applied pair after pair: BFDOT rounds as the Arm ARM
// says (C7.2.16), which is what the error bound on neonBFDOT rests on.
func TestLowpBFDOTRounding(t *testing.T) {
	if !hasBF16() {
		t.Skip("no BF16 on this CPU")
	}
	r := rand.New(rand.NewPCG(33, 34))
	bf := func() uint16 {
		v := float32(r.NormFloat64())
		switch r.IntN(16) {
		case 0:
			v *= 0x1p-70 // products below 2⁻¹²⁶ with another small one
		case 1:
			v = math.Float32frombits(uint32(r.IntN(0x80)) << 16) // a subnormal bfloat16 (or zero)
		case 2:
			v *= 0x1p40
		}
		return bf16Round(v)
	}
	for _, kp := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 40} {
		for _, acc := range []int{0, 1} {
			a := make([]uint16, 6*2*kp)
			b := make([]uint16, kp*2*PanelWidth)
			for i := range a {
				a[i] = bf()
			}
			for i := range b {
				b[i] = bf()
			}
			var tile, want [6 * PanelWidth]float32
			if acc != 0 {
				for i := range tile {
					tile[i] = float32(r.NormFloat64()) * 4
				}
				tile[5] = math.Float32frombits(0x00400000) // a subnormal sum: taken as zero
			}
			for i := 0; i < 6; i++ {
				for j := 0; j < PanelWidth; j++ {
					s := tile[i*PanelWidth+j]
					for q := 0; q < kp; q++ {
						s = bfdotAdd(s, a[i*2*kp+2*q], a[i*2*kp+2*q+1], b[q*2*PanelWidth+2*j], b[q*2*PanelWidth+2*j+1])
					}
					want[i*PanelWidth+j] = s
				}
			}
			lowpBF16BFDOT6x16(&a[0], 4*kp, &b[0], kp, &tile[0], acc)
			for e := range tile {
				if tile[e] != want[e] && !(math.IsNaN(float64(tile[e])) && math.IsNaN(float64(want[e]))) {
					t.Fatalf("kp=%d acc=%d: row %d column %d = %g (%#08x), BFDotAdd gives %g (%#08x)", kp, acc, e/PanelWidth, e%PanelWidth,
						tile[e], math.Float32bits(tile[e]), want[e], math.Float32bits(want[e]))
				}
			}
		}
	}
}

// TestLowpBFDOTError compares the errors of neon-bfdot and neon-widen on the same products (in
// units of the row's magnitude, as lowpSweep checks them): BFDOT's one round-to-odd accumulation
// a pair of k against FMLA's two round-to-nearest ones.
func TestLowpBFDOTError(t *testing.T) {
	if !hasBF16() {
		t.Skip("no BF16 on this CPU")
	}
	r := rand.New(rand.NewPCG(35, 36))
	for _, k := range []int{64, 768, 3072} {
		p := newLowpProblem(r, 12, 32, k, Store, false)
		want, mag := p.want(false)
		b := PackBF16(p.w, p.n, p.k)
		worst := map[string]float64{}
		for _, nl := range []*neonLowp{neonWiden, neonBFDOT} {
			c := append([]float32(nil), p.c...)
			nl.gemmBF16(p.m, p.n, p.k, p.a, p.lda, b, c, p.ldc, nil, Store)
			for i := 0; i < p.m; i++ {
				rowMag := 0.0
				for j := 0; j < p.n; j++ {
					rowMag = max(rowMag, mag[i*p.ldc+j])
				}
				for j := 0; j < p.n && rowMag > 0; j++ {
					e := i*p.ldc + j
					worst[nl.name] = max(worst[nl.name], math.Abs(float64(c[e])-want[e])/rowMag)
				}
			}
		}
		if worst["neon-bfdot"] > lowpTolBF16 {
			t.Errorf("k=%d: neon-bfdot's error %.3g of the row's magnitude, over %g", k, worst["neon-bfdot"], lowpTolBF16)
		}
		t.Logf("k=%d: worst error over the row's magnitude: neon-widen %.3g, neon-bfdot %.3g", k, worst["neon-widen"], worst["neon-bfdot"])
	}
}

// TestLowpNEONChosen: the variant's kernels are the best this CPU runs.
func TestLowpNEONChosen(t *testing.T) {
	defer func() { _ = Use(best()) }()
	if err := Use("neon"); err != nil {
		t.Fatal(err)
	}
	bf, i8 := LowpKernels()
	wantBF, wantI8 := "neon-widen", "neon-smull"
	if hasBF16() {
		wantBF = "neon-bfdot"
	}
	switch {
	case cpu.ARM64.HasI8MM:
		wantI8 = "neon-i8mm"
	case cpu.ARM64.HasASIMDDP:
		wantI8 = "neon-sdot"
	}
	if bf != wantBF || i8 != wantI8 {
		t.Fatalf("LowpKernels() = %s, %s; want %s, %s", bf, i8, wantBF, wantI8)
	}
	t.Logf("LowpKernels() = %s, %s", bf, i8)
	for _, c := range []struct {
		i8mm, dp bool
		want     string
	}{{true, true, "neon-i8mm"}, {true, false, "neon-i8mm"}, {false, true, "neon-sdot"}, {false, false, "neon-smull"}} {
		if got := neonInt8Kernel(c.i8mm, c.dp).name; got != c.want {
			t.Errorf("I8MM %v, DotProd %v: %s, want %s", c.i8mm, c.dp, got, c.want)
		}
	}
	if neonBF16Kernel(true) != neonBFDOT || neonBF16Kernel(false) != neonWiden {
		t.Errorf("neonBF16Kernel")
	}
}

// TestLowpEncodingsV86 checks the WORD encodings of lowp_arm64.h's Armv8.6 instructions (and the
// ZIPs the SMMLA kernel uses) against GNU as for every register combination the macros can take,
// where go, aarch64-linux-gnu-as and aarch64-linux-gnu-objdump are at hand (also under
// qemu-aarch64, which runs them as the host's programs).
func TestLowpEncodingsV86(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the assemblers")
	}
	as, err1 := exec.LookPath("aarch64-linux-gnu-as")
	objdump, err2 := exec.LookPath("aarch64-linux-gnu-objdump")
	goBin, err3 := exec.LookPath("go")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Skip("no aarch64-linux-gnu-as, aarch64-linux-gnu-objdump or go command")
	}
	var goSrc, gnuSrc []string
	for d := 0; d < 32; d++ {
		for n := 0; n < 32; n++ {
			m, i := (d*5+n*3+1)%32, (d+2*n)%4
			for _, f := range []struct{ macro, insn string }{
				{"BFDOT_E(%d, %d, %d, %d)", "bfdot v%d.4s, v%d.8h, v%d.2h[%d]"},
				{"SMMLA_4S(%d, %d, %d)", "smmla v%d.4s, v%d.16b, v%d.16b"},
				{"ZIP1_4S(%d, %d, %d)", "zip1 v%d.4s, v%d.4s, v%d.4s"},
				{"ZIP2_4S(%d, %d, %d)", "zip2 v%d.4s, v%d.4s, v%d.4s"},
				{"ZIP1_2D(%d, %d, %d)", "zip1 v%d.2d, v%d.2d, v%d.2d"},
				{"ZIP2_2D(%d, %d, %d)", "zip2 v%d.2d, v%d.2d, v%d.2d"},
			} {
				args := []any{d, n, m, i}[:strings.Count(f.macro, "%d")]
				goSrc = append(goSrc, fmt.Sprintf(f.macro, args...))
				gnuSrc = append(gnuSrc, fmt.Sprintf(f.insn, args...))
			}
		}
	}
	dir := t.TempDir()
	hdr, err := os.ReadFile("lowp_arm64.h")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lowp_arm64.h", string(hdr))
	write("e.s", "#include \"textflag.h\"\n#include \"lowp_arm64.h\"\nTEXT ·f(SB), NOSPLIT, $0\n\t"+strings.Join(goSrc, "\n\t")+"\n\tRET\n")
	write("g.s", strings.Join(gnuSrc, "\n")+"\n")
	run := func(env []string, name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	goroot := strings.TrimSpace(run(nil, goBin, "env", "GOROOT"))
	goOut := run([]string{"GOARCH=arm64", "GOOS=linux"}, goBin, "tool", "asm", "-I", filepath.Join(goroot, "pkg", "include"), "-I", dir, "-p", "enc", "-S", "-o", os.DevNull, "e.s")
	run(nil, as, "-march=armv8.6-a", "g.s", "-o", "g.o")
	dis := run(nil, objdump, "-d", "g.o")

	// go tool asm -S lists each WORD with its source line (the first macro call is on line 4);
	// objdump one instruction word a line, in hexadecimal.
	got := make([]int64, len(goSrc))
	seen := make([]bool, len(goSrc))
	for _, m := range regexp.MustCompile(`\(e\.s:(\d+)\)\s+WORD\s+\$(-?\d+)`).FindAllStringSubmatch(goOut, -1) {
		line, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseInt(m[2], 10, 64)
		if i := line - 4; i >= 0 && i < len(goSrc) {
			if seen[i] {
				t.Fatalf("%s: more than one WORD", goSrc[i])
			}
			got[i], seen[i] = v&0xffffffff, true
		}
	}
	words := regexp.MustCompile(`(?m)^\s*[0-9a-f]+:\t([0-9a-f]{8}) `).FindAllStringSubmatch(dis, -1)
	if len(words) != len(gnuSrc) {
		t.Fatalf("%d instructions from GNU as, want %d", len(words), len(gnuSrc))
	}
	for i, w := range words {
		want, _ := strconv.ParseInt(w[1], 16, 64)
		if !seen[i] || got[i] != want {
			t.Fatalf("%s = %#08x, GNU as %q gives %#08x", goSrc[i], got[i], gnuSrc[i], want)
		}
	}
	t.Logf("%d encodings match GNU as", len(goSrc))
}
