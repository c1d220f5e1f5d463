package pack

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/gen/layout"
)

// WriteRandom writes a weights file of the architecture with random weights (Linear weights
// N(0, 0.02²), LayerNorm weights near 1, small biases), for benchmarks and tests that need the
// real shapes but no checkpoint. The same seed gives the same file.
func WriteRandom(c arch.Config, classes int, seed uint64, path string) error {
	return WriteRandomDType(c, classes, seed, "", path)
}

// WriteRandomDType is WriteRandom with the blocks' matrices in dtype (see Model.DType): the
// same weights, rounded or quantized.
func WriteRandomDType(c arch.Config, classes int, seed uint64, dtype, path string) error {
	r := rand.New(rand.NewPCG(seed, 0x76697463))
	m := &Model{Config: c, SourceImage: c.Image, Classes: classes, DType: dtype}
	if classes > 0 {
		m.Head = LinearHead
	}
	src := Source{Name: "random-" + strconv.FormatUint(seed, 10), SHA256: strings.Repeat("0", 64)}
	return write(m, src, path, nil, func(e layout.Entry) ([]float32, error) {
		n := int(e.Size() / 4)
		v := make([]float32, n)
		std, mean := float32(0.02), float32(0)
		if e.Kind == layout.Vector && strings.Contains(e.Name, "norm") && strings.HasSuffix(e.Name, ".weight") {
			mean = 1
		}
		for i := range v {
			v[i] = mean + std*float32(r.NormFloat64())
		}
		if e.Kind == layout.Matrix { // zero the padding columns and rows, as packing does
			pw, rows := layout.PanelWidth, e.Shape[1]
			for i := range v {
				if p, kk, j := i/(rows*pw), i/pw%rows, i%pw; p*pw+j >= e.N || kk >= e.K {
					v[i] = 0
				}
			}
		}
		return v, nil
	})
}
