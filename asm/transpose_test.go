package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTranspose16 checks Transpose16 with every available variant, on whole blocks of 16
// columns and ragged ends, rows packed tight and far apart, against its definition, and that
// nothing past the 16·cols floats of dst is written.
func TestTranspose16(t *testing.T) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(21, 22))
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, cols := range []int{1, 5, 15, 16, 17, 31, 32, 48, 64, 80, 100} {
			for _, ld := range []int{cols, cols + 3, 3 * 768} {
				src := randSlice(r, 15*ld+cols)
				dst := make([]float32, PanelWidth*cols+16)
				for i := range dst {
					dst[i] = 42
				}
				Transpose16(dst[:PanelWidth*cols], src, ld, cols)
				for c := range cols {
					for row := range PanelWidth {
						if got, want := dst[PanelWidth*c+row], src[row*ld+c]; got != want {
							t.Fatalf("%s cols=%d ld=%d: dst[16·%d+%d] = %g, want src[%d·ld+%d] = %g", name, cols, ld, c, row, got, row, c, want)
						}
					}
				}
				for i, v := range dst[PanelWidth*cols:] {
					if v != 42 {
						t.Fatalf("%s cols=%d ld=%d: wrote float %d past dst", name, cols, ld, PanelWidth*cols+i)
					}
				}
			}
		}
	}
}

// BenchmarkTranspose16 transposes a ViT head's keys (16 tokens × 64 dimensions, rows 2304
// floats apart as in the qkv product of vitb14) with each variant.
func BenchmarkTranspose16(b *testing.B) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(23, 24))
	const ld, cols = 2304, 64
	src := randSlice(r, 15*ld+cols)
	dst := make([]float32, PanelWidth*cols)
	for _, name := range Available() {
		b.Run(fmt.Sprint(name), func(b *testing.B) {
			if err := Use(name); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				Transpose16(dst, src, ld, cols)
			}
			b.ReportMetric(float64(b.N*PanelWidth*cols)/b.Elapsed().Seconds()/1e9, "Gfloat/s")
		})
	}
}
