package arch

import (
	"math"
	"strings"
	"testing"
)

// TestHubTable checks the built-in architectures against the published table (models.md)
// and FLOP counts (performance.md).
func TestHubTable(t *testing.T) {
	want := map[string]struct {
		embed, depth, heads, image, tokens int
		mparams, gflops                    float64
	}{
		"vits14":     {384, 12, 6, 224, 257, 22, 12},
		"vitb14":     {768, 12, 12, 224, 257, 86, 46},
		"vitl14":     {1024, 24, 16, 224, 257, 303, 162},
		"vith14":     {1280, 32, 16, 224, 257, 632, 335},
		"vith14@448": {1280, 32, 16, 448, 1025, 633, 1460},
		"vith14@476": {1280, 32, 16, 476, 1157, 633, 1680},
	}
	for _, name := range HubNames {
		c, err := Hub(name)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		if c.Embed != w.embed || c.Depth != w.depth || c.Heads != w.heads || c.Image != w.image || c.Tokens() != w.tokens || c.Patch != 14 || c.MLP != 4*w.embed {
			t.Errorf("%s: %v", name, c)
		}
		if p := float64(c.Params()) / 1e6; math.Abs(p-w.mparams)/w.mparams > 0.02 {
			t.Errorf("%s: %.1f M params, table says ~%.0f M", name, p, w.mparams)
		}
		if g := float64(c.ModelFLOPs()) / 1e9; math.Abs(g-w.gflops)/w.gflops > 0.03 {
			t.Errorf("%s: %.1f GFLOP, performance.md says %.0f", name, g, w.gflops)
		}
		// vitc's last block: every token's keys and values, then the class token alone.
		tk, d := int64(c.Tokens()), int64(c.Embed)
		skipped := 2*(tk-1)*d*d + 4*(tk-1)*tk*d + 2*(tk-1)*d*d + 4*(tk-1)*d*int64(c.MLP)
		if got := c.ModelFLOPs() - c.FLOPs(); got != skipped {
			t.Errorf("%s: vitc skips %d FLOPs of the last block, want %d", name, got, skipped)
		}
	}
	if _, err := Hub("vitb14@448"); err == nil {
		t.Error("vitb14@448 is not on the hub")
	}
}

func TestFromModelName(t *testing.T) {
	cases := []struct {
		model      string
		input      int
		name       string
		pretrained bool
	}{
		{"mae_vit_small_patch14", 224, "vits14", true},
		{"vit_base_patch14", 224, "vitb14", false},
		{"mae_vit_large_patch14", 0, "vitl14", true},
		{"mae_vit_huge_patch14_448", 448, "vith14@448", true},
		{"vit_huge_patch14_476", 0, "vith14@476", false},
		{"vit_huge_patch14", 476, "vith14@476", false},
	}
	for _, c := range cases {
		got, pre, ok := FromModelName(c.model, c.input)
		if !ok || got.Name != c.name || pre != c.pretrained {
			t.Errorf("FromModelName(%q, %d) = %v %v %v", c.model, c.input, got.Name, pre, ok)
		}
	}
	for _, bad := range []string{"", "resnet50", "vit_tiny_patch14", "mae_vit_odd_patch14"} {
		if _, _, ok := FromModelName(bad, 224); ok {
			t.Errorf("FromModelName(%q) accepted", bad)
		}
	}
}

func TestParse(t *testing.T) {
	c, err := Parse("vitb14@448")
	if err != nil || c.Image != 448 || c.Embed != 768 || c.Package() != "vitb14_448" {
		t.Errorf("vitb14@448: %v %v", c, err)
	}
	c, err = Parse("name=tiny,embed=32,depth=2,heads=2,image=42")
	if err != nil || c.MLP != 128 || c.Patch != 14 || c.Tokens() != 10 {
		t.Errorf("tiny: %v %v", c, err)
	}
	for spec, msg := range map[string]string{
		"vitx14":                            "unknown architecture",
		"vitb14@450":                        "not a multiple of patch",
		"embed=30,depth=1,heads=4,image=28": "not a multiple of heads",
		"embed=32,depth=one":                "not a number",
		"embed=32,colour=2":                 "unknown key",
	} {
		if _, err := Parse(spec); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Parse(%q) error %v, want %q", spec, err, msg)
		}
	}
}

func TestNameFor(t *testing.T) {
	c, _ := Hub("vitl14")
	c.Name = ""
	if n := NameFor(c); n != "vitl14" {
		t.Errorf("NameFor(vitl14 shapes) = %q", n)
	}
	c.Heads = 8
	if n := NameFor(c); !strings.HasPrefix(n, "vit_d1024_l24_h8") {
		t.Errorf("NameFor(other heads) = %q", n)
	}
}
