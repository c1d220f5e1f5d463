package vit_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	_ "github.com/vitc-dev/vitc/compiled/testarch/all"
	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/npy"
	"github.com/vitc-dev/vitc/runtime/vit"
)

// TestLastAttentionMatchesPyTorch: the class-token rows of the last block's attention agree
// with PyTorch's (cmd/internal/cli/testdata/attention/make.py, the tiny finetuned fixture).
func TestLastAttentionMatchesPyTorch(t *testing.T) {
	m, x := openTiny(t)
	want, err := npy.ReadFile("../../cmd/internal/cli/testdata/attention/tiny_finetuned_zip_f32.attention.npy")
	if err != nil {
		t.Fatal(err)
	}
	a := m.Arch()
	batch := x.Shape[0]
	if fmt.Sprint(want.Shape) != fmt.Sprint([]int{batch, a.Heads, a.Tokens()}) {
		t.Fatalf("expected attention has shape %v, the model gives %d×%d×%d", want.Shape, batch, a.Heads, a.Tokens())
	}
	got, err := m.LastAttention(x.Data, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Data) {
		t.Fatalf("%d values, want %d", len(got), len(want.Data))
	}
	var worst float64
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i]-want.Data[i])))
	}
	if worst > 1e-5 {
		t.Errorf("max |LastAttention - PyTorch| = %.3g, over 1e-5", worst)
	}
	t.Logf("LastAttention: %d×%d×%d, max difference from PyTorch %.3g", batch, a.Heads, a.Tokens(), worst)

	// Each row is a probability distribution, and a batch of one gives the same rows.
	for r := 0; r < batch*a.Heads; r++ {
		var sum float64
		for _, p := range got[r*a.Tokens() : (r+1)*a.Tokens()] {
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("row %d sums to %.7f", r, sum)
		}
	}
	per := len(x.Data) / batch
	one, err := m.LastAttention(x.Data[per:], 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range one {
		if d := math.Abs(float64(v - got[a.Heads*a.Tokens()+i])); d > 1e-6 {
			t.Fatalf("image 1 alone differs from image 1 in the batch by %.3g at %d", d, i)
		}
	}
	if _, err := m.LastAttention(x.Data[:10], 1); err == nil {
		t.Error("a short input was accepted")
	}
}

// openTiny compiles the tiny finetuned fixture, opens it (closed when the test ends), and
// reads its input batch.
func openTiny(t *testing.T) (*vit.Model, *npy.Array) {
	t.Helper()
	const fixtures = "../../gen/testdata/fixtures"
	w := filepath.Join(t.TempDir(), "tiny.safetensors")
	if _, err := compile.File(filepath.Join(fixtures, "tiny_finetuned_zip_f32.pth"), w, compile.Options{Heads: 2, Name: "tiny"}); err != nil {
		t.Fatal(err)
	}
	m, err := vit.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	x, err := npy.ReadFile(filepath.Join(fixtures, "tiny_input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	return m, x
}
