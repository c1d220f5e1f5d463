package pack

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/vitc-dev/vitc/gen/checkpoint"
	"github.com/vitc-dev/vitc/gen/layout"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

const fixtures = "../testdata/fixtures"

func compileFixture(t *testing.T, name string, opt Options) (string, *Model, *checkpoint.Checkpoint) {
	t.Helper()
	ck, err := checkpoint.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	m, err := Analyze(ck, opt)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Write(ck, m, Source{Name: name, SHA256: strings.Repeat("ab", 32)}, out, nil); err != nil {
		t.Fatal(err)
	}
	return out, m, ck
}

// TestSafetensorsCompatible: a weights file is a valid safetensors file for an independent
// implementation of the format's rules (no holes, offsets within the buffer, shapes matching
// sizes), so standard tools open it.
func TestSafetensorsCompatible(t *testing.T) {
	out, m, ck := compileFixture(t, "odd_finetuned_zip_f32.pth", Options{Heads: 3, Name: "odd"})
	buf, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		t.Fatalf("safetensors rejects the file: %v", err)
	}
	want := layout.Full(m.Config, m.Classes)
	if st.Len() != len(want) {
		t.Fatalf("%d tensors, layout has %d", st.Len(), len(want))
	}
	// A vector comes out as stored in the checkpoint.
	v, ok := st.Tensor("blocks.2.norm1.bias")
	if !ok {
		t.Fatal("blocks.2.norm1.bias missing")
	}
	ref, err := ck.Tensors["blocks.2.norm1.bias"].Float32()
	if err != nil {
		t.Fatal(err)
	}
	data := v.Data()
	for i, r := range ref {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])); got != r {
			t.Fatalf("element %d = %g, checkpoint %g", i, got, r)
		}
	}
	_, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		t.Fatal(err)
	}
	meta := md.Metadata()
	if meta[wfile.KeyMagic] != wfile.MagicValue || meta[wfile.KeyArch] != "odd" || meta[wfile.KeyClasses] != "17" || len(meta[wfile.KeyDataSHA256]) != 64 || meta[wfile.KeyDataSHA256] == strings.Repeat("0", 64) {
		t.Errorf("metadata %v", meta)
	}
}

func TestPackPanels(t *testing.T) {
	// A 17×3 matrix: two panels, the second with one real column.
	n, k := 17, 3
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(i + 1)
	}
	p := PackPanels(w, n, k)
	if len(p) != 2*k*16 {
		t.Fatalf("%d floats", len(p))
	}
	for j := 0; j < n; j++ {
		for kk := 0; kk < k; kk++ {
			if got := p[(j/16)*k*16+kk*16+j%16]; got != w[j*k+kk] {
				t.Fatalf("W[%d][%d] packed as %g, want %g", j, kk, got, w[j*k+kk])
			}
		}
	}
	for kk := 0; kk < k; kk++ {
		for j := 1; j < 16; j++ {
			if p[k*16+kk*16+j] != 0 {
				t.Fatal("padding columns are not zero")
			}
		}
	}
}

// TestBatchNormFold: the folded classifier equals BatchNorm then Linear, in float64.
func TestBatchNormFold(t *testing.T) {
	ck, err := checkpoint.Open(filepath.Join(fixtures, "odd_finetuned_zip_f32.pth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	m, err := Analyze(ck, Options{Heads: 3})
	if err != nil {
		t.Fatal(err)
	}
	read := func(n string) ([]float32, error) { return ck.Tensors[n].Float32() }
	fw, fb, err := head(ck, m, read)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := read("head.1.weight")
	b, _ := read("head.1.bias")
	mu, _ := read("head.0.running_mean")
	vr, _ := read("head.0.running_var")
	d := m.Config.Embed
	x := make([]float64, d)
	for i := range x {
		x[i] = math.Sin(float64(i)) * 2
	}
	for c := 0; c < m.Classes; c++ {
		want, got := float64(b[c]), float64(fb[c])
		for k := 0; k < d; k++ {
			want += float64(w[c*d+k]) * (x[k] - float64(mu[k])) / math.Sqrt(float64(vr[k])+BatchNormEps)
			got += float64(fw[c*d+k]) * x[k]
		}
		if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("class %d: folded %g, unfolded %g", c, got, want)
		}
	}
}

func TestIgnoredSummary(t *testing.T) {
	ck, err := checkpoint.Open(filepath.Join(fixtures, "tiny_pretrained_zip_f32.pth"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	m, err := Analyze(ck, Options{Heads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := "20 unexpected keys ignored: decoder_blocks.* (12), decoder_embed.* (2), decoder_norm.* (2), decoder_pos_embed, decoder_pred.* (2), mask_token"
	if got := m.IgnoredSummary(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if m.Finetuned() || m.Config.Name != "vit_d32_l2_h2_p14_m128@42" || m.FromArgs {
		t.Errorf("model %+v", m.Config)
	}
}
