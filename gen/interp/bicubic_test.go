package interp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// torchCase is one line of testdata/cases.txt, written by testdata/make.py.
type torchCase struct {
	name                    string
	c, inH, inW, outH, outW int
}

func readCases(t *testing.T) []torchCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cases.txt"))
	if err != nil {
		t.Fatalf("%v (regenerate with: /usr/bin/python3 gen/interp/testdata/make.py)", err)
	}
	defer f.Close()
	var cases []torchCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var tc torchCase
		if _, err := fmt.Sscan(line, &tc.name, &tc.c, &tc.inH, &tc.inW, &tc.outH, &tc.outW); err != nil {
			t.Fatalf("testdata/cases.txt: %q: %v", line, err)
		}
		cases = append(cases, tc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("testdata/cases.txt lists no cases")
	}
	return cases
}

// readF32 reads a raw little-endian float32 file of exactly n values.
func readF32(t *testing.T, name string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("testdata/%s: %d bytes, want %d float32 = %d bytes", name, len(b), n, 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// compare reports the max abs difference and how many values differ in any bit.
func compare(got, want []float32) (maxDiff, maxAbs float64, differ int) {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			differ++
		}
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
		maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
	}
	return maxDiff, maxAbs, differ
}

// TestBicubicMatchesTorch compares with torch 1.13's outputs (AVX2 build of ATen). The
// contract is a max abs difference within 1e-6 of the output's magnitude; the
// implementation is meant to be bit-exact, so any differing bit fails too.
func TestBicubicMatchesTorch(t *testing.T) {
	for _, tc := range readCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := readF32(t, tc.name+".in.f32", tc.c*tc.inH*tc.inW)
			want := readF32(t, tc.name+".avx2.f32", tc.c*tc.outH*tc.outW)
			got := Bicubic(in, tc.c, tc.inH, tc.inW, tc.outH, tc.outW)
			maxDiff, maxAbs, differ := compare(got, want)
			t.Logf("c=%d %dx%d -> %dx%d: maxdiff = %e (max |out| = %e), %d of %d values differ",
				tc.c, tc.inH, tc.inW, tc.outH, tc.outW, maxDiff, maxAbs, differ, len(want))
			if maxDiff > 1e-6*maxAbs {
				t.Errorf("maxdiff %e > 1e-6 * max|out| = %e", maxDiff, 1e-6*maxAbs)
			}
			if differ != 0 {
				t.Errorf("%d values are not bit-identical to torch", differ)
			}
		})
	}
}

// TestPlainArithMatchesTorchDefaultBuild checks the unfused arithmetic against ATen's
// baseline build (ATEN_CPU_CAPABILITY=default), and shows how far the two builds differ.
func TestPlainArithMatchesTorchDefaultBuild(t *testing.T) {
	for _, tc := range readCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := readF32(t, tc.name+".in.f32", tc.c*tc.inH*tc.inW)
			want := readF32(t, tc.name+".default.f32", tc.c*tc.outH*tc.outW)
			got := bicubic(in, tc.c, tc.inH, tc.inW, tc.outH, tc.outW, plainArith)
			if _, _, differ := compare(got, want); differ != 0 {
				t.Errorf("%d of %d values are not bit-identical to torch's default build", differ, len(want))
			}
			fused := readF32(t, tc.name+".avx2.f32", len(want))
			maxDiff, maxAbs, differ := compare(fused, want)
			t.Logf("torch avx2 vs default build: maxdiff = %e (max |out| = %e), %d of %d values differ",
				maxDiff, maxAbs, differ, len(want))
		})
	}
}

func TestCubicWeights(t *testing.T) {
	for _, arith := range []arithmetic{fusedArith, plainArith} {
		for _, tc := range []struct {
			t    float32
			want [4]float32
		}{
			{0, [4]float32{0, 1, 0, 0}},
			{0.5, [4]float32{-0.09375, 0.59375, 0.59375, -0.09375}},
			{0.25, [4]float32{-0.10546875, 0.87890625, 0.26171875, -0.03515625}},
		} {
			if got := cubicWeights(tc.t, arith); got != tc.want {
				t.Errorf("arith %d: cubicWeights(%g) = %v, want %v", arith, tc.t, got, tc.want)
			}
		}
	}
}

// TestSameSizeIsIdentity: at scale 1 every weight is 0 or 1, so the values come back exactly.
func TestSameSizeIsIdentity(t *testing.T) {
	src := []float32{1.5, -2, 3e-8, 4, 5, 6e30, 7, 8, -9, 10, 11, 12}
	got := Bicubic(src, 2, 2, 3, 2, 3)
	for i := range src {
		if got[i] != src[i] {
			t.Fatalf("Bicubic at the same size: got %v, want %v", got, src)
		}
	}
}

func TestBicubicShapes(t *testing.T) {
	if got := Bicubic(nil, 0, 3, 3, 5, 5); len(got) != 0 {
		t.Errorf("c=0: got %d values, want none", len(got))
	}
	// The float32 weights do not sum to exactly 1 (torch gives the same bits; see the
	// row1x1to2x9 case), so a constant comes back only nearly constant.
	got := Bicubic([]float32{2.5}, 1, 1, 1, 3, 2)
	for _, v := range got {
		if math.Abs(float64(v)-2.5) > 1e-6 {
			t.Errorf("1x1 input upsampled: got %v, want all about 2.5", got)
			break
		}
	}
	for _, bad := range []struct {
		n, c, inH, inW, outH, outW int
	}{
		{8, 1, 3, 3, 4, 4},   // wrong length
		{0, 1, 0, 3, 4, 4},   // empty input plane
		{9, 1, 3, 3, 0, 4},   // empty output
		{9, -1, 3, 3, 4, 4},  // negative channel count
		{9, 1, 3, 3, 4, -4},  // negative size
		{10, 1, 3, 3, 4, 4},  // too long
		{18, 2, 3, 3, 1, -1}, // negative output width
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Bicubic(len %d, c=%d, %dx%d -> %dx%d) did not panic",
						bad.n, bad.c, bad.inH, bad.inW, bad.outH, bad.outW)
				}
			}()
			Bicubic(make([]float32, bad.n), bad.c, bad.inH, bad.inW, bad.outH, bad.outW)
		}()
	}
}

// BenchmarkBicubic runs the real position-embedding resizes: vith14's D=1280 16x16 grid to
// 32x32 (448 px) and 34x34 (476 px).
func BenchmarkBicubic(b *testing.B) {
	for _, out := range []int{32, 34} {
		const d, g = 1280, 16
		src := make([]float32, d*g*g)
		for i := range src {
			src[i] = float32(i%97) * 0.01
		}
		b.Run(fmt.Sprintf("D=%d,%dto%d", d, g, out), func(b *testing.B) {
			for b.Loop() {
				Bicubic(src, d, g, g, out, out)
			}
		})
	}
}
