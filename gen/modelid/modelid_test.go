package modelid

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAllHas78InDocumentedOrder(t *testing.T) {
	ids := All()
	if len(ids) != 78 {
		t.Fatalf("All() has %d ids, want 78", len(ids))
	}
	// Spot checks of the documented order: arch, fraction descending, seed.
	want := map[int]string{
		0:  "vits14_1.0_1",
		1:  "vits14_0.1_1",
		2:  "vits14_0.1_2",
		3:  "vits14_0.1_3",
		4:  "vits14_0.01_1",
		12: "vits14_0.0001_3",
		13: "vitb14_1.0_1",
		65: "vith14@476_1.0_1",
		77: "vith14@476_0.0001_3",
	}
	for i, s := range want {
		if got := ids[i].String(); got != s {
			t.Errorf("All()[%d] = %s, want %s", i, got, s)
		}
	}
	seen := map[string]bool{}
	perArch := map[string]int{}
	for _, id := range ids {
		if seen[id.String()] {
			t.Errorf("duplicate id %s", id)
		}
		seen[id.String()] = true
		perArch[id.Arch]++
		if id.Fraction == "1.0" && id.Seed != 1 {
			t.Errorf("%s: fraction 1.0 has only seed 1", id)
		}
	}
	for _, a := range Archs {
		if perArch[a] != 13 {
			t.Errorf("%s has %d ids, want 13", a, perArch[a])
		}
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, id := range All() {
		s := id.String()
		got, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if got != id {
			t.Errorf("Parse(%q) = %+v, want %+v", s, got, id)
		}
		if !LooksLikeID(s) {
			t.Errorf("LooksLikeID(%q) = false", s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in      string
		problem string   // substring of the message
		suggest []string // exact suggestions
	}{
		{"vitb16_1.0_1", `no architecture "vitb16"`, []string{"vitb14_1.0_1"}},
		{"vith14@512_1.0_1", `no architecture "vith14@512"`, []string{"vith14@448_1.0_1", "vith14@476_1.0_1"}},
		{"vits14_0.5_1", `no data fraction "0.5"`, []string{"vits14_0.1_1"}},
		{"vits14_1_1", `no data fraction "1"`, []string{"vits14_1.0_1", "vits14_0.1_1"}},
		{"vitl14_0.1_4", "no seed 4", []string{"vitl14_0.1_1", "vitl14_0.1_2", "vitl14_0.1_3"}},
		{"vitl14_0.1_0", "no seed 0", []string{"vitl14_0.1_1", "vitl14_0.1_2", "vitl14_0.1_3"}},
		{"vitl14_0.1_02", `seed "02" is not a plain number`, []string{"vitl14_0.1_2"}},
		{"vitl14_0.1_x", `seed "x" is not a plain number`, []string{"vitl14_0.1_1", "vitl14_0.1_2", "vitl14_0.1_3"}},
		{"vitb14_1.0_2", "fraction 1.0 is the whole data set and has only seed 1, not 2", []string{"vitb14_1.0_1"}},
		{"vitb14_1.0_3", "has only seed 1, not 3", []string{"vitb14_1.0_1"}},
		{"vits14", "expected three parts", []string{"vits14_1.0_1", "vits14_0.1_1", "vits14_0.1_2"}},
		{"vits14_1.0", "expected three parts", []string{"vits14_1.0_1"}},
		{"vits14_1.0_1_1", "expected three parts", []string{"vits14_1.0_1", "vits14_0.01_1", "vits14_0.001_1"}},
		{"VITS14_0.1_2", `no architecture "VITS14"`, []string{"vits14_0.1_2"}},
		{"vits14_1.0_1.pth", "that is a file name", []string{"vits14_1.0_1"}},
		{"finetuned_vits14/vits14_0.01_2.pth", "that is a file name", []string{"vits14_0.01_2"}},
		{"resnet50", "expected three parts", nil},
		{"", "the id is empty", nil},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want *ParseError", c.in, err)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, `unknown model id "`+c.in+`": `) || !strings.Contains(msg, c.problem) {
			t.Errorf("Parse(%q) = %q, want it to contain %q", c.in, msg, c.problem)
		}
		if !slices.Equal(pe.Suggestions, c.suggest) {
			t.Errorf("Parse(%q) suggestions = %q, want %q", c.in, pe.Suggestions, c.suggest)
		}
		if len(c.suggest) == 0 && !strings.Contains(msg, "model ids look like vits14_1.0_1") {
			t.Errorf("Parse(%q) = %q, want the generic hint", c.in, msg)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("vitb16_1.0_1")
	want := `unknown model id "vitb16_1.0_1": no architecture "vitb16" (there are vits14, vitb14, vitl14, vith14, vith14@448, vith14@476); did you mean vitb14_1.0_1?`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = Parse("vitl14_0.1_4")
	want = `unknown model id "vitl14_0.1_4": no seed 4 (seeds are 1, 2 and 3); did you mean vitl14_0.1_1, vitl14_0.1_2 or vitl14_0.1_3?`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestHubPath(t *testing.T) {
	cases := []struct {
		id        string
		finetuned bool
		want      string
	}{
		{"vith14@476_1.0_1", false, "vith14@476/vith14@476_1.0_1.pth"},
		{"vith14@476_1.0_1", true, "finetuned_vith14@476/vith14@476_1.0_1.pth"},
		{"vits14_0.01_2", true, "finetuned_vits14/vits14_0.01_2.pth"},
		{"vits14_0.01_2", false, "vits14/vits14_0.01_2.pth"},
		{"vitb14_0.0001_3", false, "vitb14/vitb14_0.0001_3.pth"},
	}
	for _, c := range cases {
		id, err := Parse(c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := id.HubPath(c.finetuned); got != c.want {
			t.Errorf("%s.HubPath(%v) = %q, want %q", c.id, c.finetuned, got, c.want)
		}
	}
	paths := map[string]bool{}
	for _, id := range All() {
		paths[id.HubPath(false)] = true
		paths[id.HubPath(true)] = true
	}
	if len(paths) != 156 {
		t.Errorf("%d distinct hub paths, want 156", len(paths))
	}
}

func TestLooksLikeID(t *testing.T) {
	yes := []string{"vits14_1.0_1", "vitb16_1.0_1", "vith14@448_0.01_3", "foo_1_2", "vits14_0.5_9"}
	no := []string{"", "vits14", "vits14_1.0_1.pth", "vits14/vits14_1.0_1.pth", "./vits14_1.0_1",
		"/tmp/model.pth", "model.pth", "vits14_1.0_", "_1.0_1", "vits14_a_1", "vits14_1.0_1 "}
	for _, s := range yes {
		if !LooksLikeID(s) {
			t.Errorf("LooksLikeID(%q) = false, want true", s)
		}
	}
	for _, s := range no {
		if LooksLikeID(s) {
			t.Errorf("LooksLikeID(%q) = true, want false", s)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"vitb16", "vitb14", 1}, {"abc", "abc", 0}}
	for _, c := range cases {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
