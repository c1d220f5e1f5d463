package layout

import (
	"testing"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

func TestEncoderLayout(t *testing.T) {
	for _, spec := range []string{"vits14", "vith14@476", "name=odd,embed=24,depth=3,heads=3,image=56,mlp=96"} {
		c, err := arch.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		es := Full(c, 17)
		var off int64
		pads, real := 0, 0
		for _, e := range es {
			if e.Begin != off {
				t.Fatalf("%s: %s starts at %d, previous ended at %d", spec, e.Name, e.Begin, off)
			}
			off = e.End
			if e.Kind == Pad {
				pads++
				continue
			}
			real++
			if e.Begin%wfile.Align != 0 {
				t.Errorf("%s: %s at %d not aligned", spec, e.Name, e.Begin)
			}
			if e.Kind == Matrix && (e.Shape[0] != Panels(e.N) || e.Shape[1] != asm.PanelRows(e.K) || e.Shape[2] != PanelWidth) {
				t.Errorf("%s: %s shape %v for %d×%d", spec, e.Name, e.Shape, e.N, e.K)
			}
		}
		if want := 4 + 12*c.Depth + 2 + 2; real != want {
			t.Errorf("%s: %d tensors, want %d", spec, real, want)
		}
		if last := es[len(es)-1]; last.Name != "head.bias" || es[len(es)-2].Name != "head.weight" {
			t.Errorf("%s: the classifier is not last", spec)
		}
		if c.Embed%16 == 0 && pads > 0 { // the 17-class head bias is last: nothing follows it to align
			t.Errorf("%s: %d pads for 16-aligned widths", spec, pads)
		}
		if c.Embed%16 != 0 && pads == 0 {
			t.Errorf("%s: widths not multiples of 16 but no pads", spec)
		}
	}
}

func TestHashDiffers(t *testing.T) {
	a, _ := arch.Parse("vith14@448")
	b, _ := arch.Parse("vith14@476")
	if Hash(Encoder(a)) == Hash(Encoder(b)) {
		t.Error("two resolutions share a layout hash")
	}
	if Hash(Encoder(a)) != Hash(Encoder(a)) {
		t.Error("hash not deterministic")
	}
}
