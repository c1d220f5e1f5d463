package compile

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/npy"
)

// lowpBound is the bar for each precision: the largest output error over the range
// (max − min) of PyTorch's float32 outputs.
var lowpBound = map[string]float64{engine.BF16: 0.01, engine.Int8: 0.03}

// variantBound is how far, over the outputs' range, a variant may be from the generic kernels.
// Not float32 rounding: the activations are rounded to bfloat16 (or quantized) before each
// product, so one float32 ulp of difference upstream can move an input by a whole bfloat16 ulp
// (2⁻⁸) or int8 step downstream. A wrong kernel is off by the outputs' own size.
var variantBound = map[string]float64{engine.BF16: 2e-3, engine.Int8: 1e-2}

// TestLowPrecisionFixtures compiles fixtures in bfloat16 and int8 and runs them with every
// kernel variant: the outputs stay within the bar of PyTorch's float32 ones, every variant
// gives the generic (pure Go) kernels' result (see variantBound), and the files shrink.
func TestLowPrecisionFixtures(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	defer asm.Use(asm.Active())
	for _, f := range loadManifest(t) {
		if f.Format != "zip" || f.DType != "float32" {
			continue
		}
		x, err := npy.ReadFile(filepath.Join(fixtures, f.Input))
		if err != nil {
			t.Fatal(err)
		}
		want, err := npy.ReadFile(filepath.Join(fixtures, f.Expected))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range want.Data {
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		var f32Size int64
		for _, dtype := range []string{engine.F32, engine.BF16, engine.Int8} {
			opt := Options{Heads: f.Config.Heads, Name: f.Config.Name, DType: dtype}
			var reference []float32
			variants := []string{"generic"}
			for _, v := range asm.Available() {
				if v != "generic" {
					variants = append(variants, v)
				}
			}
			for _, variant := range variants {
				if err := asm.Use(variant); err != nil {
					t.Fatal(err)
				}
				m, err := Load(context.Background(), filepath.Join(fixtures, f.File), opt)
				if err != nil {
					t.Fatal(err)
				}
				if m.DType() != dtype {
					t.Fatalf("%s: dtype %s, want %s", m, m.DType(), dtype)
				}
				st, err := os.Stat(m.Path())
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Forward(x.Data, x.Shape[0])
				m.Close()
				if err != nil {
					t.Fatal(err)
				}
				diff, _ := maxRelDiff(t, got, want.Data)
				ofRange := diff / (hi - lo)
				if dtype == engine.F32 {
					f32Size = st.Size()
					continue
				}
				if ofRange > lowpBound[dtype] {
					t.Errorf("%s %s %s: max error %.3g = %.3g of the outputs' range, over %g", f.File, dtype, variant, diff, ofRange, lowpBound[dtype])
				}
				if variant == "generic" {
					reference = got
				} else if vd, _ := maxRelDiff(t, got, reference); vd > variantBound[dtype]*(hi-lo) {
					t.Errorf("%s %s: %s differs from the generic kernels by %.3g, over %g of the range", f.File, dtype, variant, vd, variantBound[dtype])
				}
				t.Logf("LOWP %s %s %s: max error %.3g = %.3g of the range (bar %g); file %.2f of float32's", f.File, dtype, variant, diff, ofRange, lowpBound[dtype], float64(st.Size())/float64(f32Size))
			}
		}
	}
}
