// Package modelid names the checkpoints of the humanlike-vits hub repository.
//
// A model id is `arch_fraction_seed`, e.g. `vith14@476_1.0_1`: one of six architectures, the
// share of the ~5000 h of video used for pretraining, and which random subset of that share was
// drawn. Every id exists twice on the hub, pretrained and finetuned on ImageNet. The set is
// closed (78 ids), so a typo can be answered with the nearest real ids instead of a 404 from the
// hub after a network round trip.
package modelid

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Repo is the Hugging Face Hub model repository that holds every checkpoint.
const Repo = "eminorhan/humanlike-vits"

// Archs are the architectures, smallest first, in the order the hub's model card lists them.
var Archs = []string{"vits14", "vitb14", "vitl14", "vith14", "vith14@448", "vith14@476"}

// Fractions are the data fractions, written as in the ids, largest first.
var Fractions = []string{"1.0", "0.1", "0.01", "0.001", "0.0001"}

// Seeds are the random subsets drawn for every fraction below 1.0. The whole data set (1.0)
// cannot be subsampled, so it has seed 1 only.
var Seeds = []int{1, 2, 3}

// ID is one checkpoint pair (pretrained and finetuned) of the hub.
type ID struct {
	Arch     string // one of Archs
	Fraction string // one of Fractions, spelt exactly as in the id ("1.0", not "1")
	Seed     int    // one of Seeds; 1 when Fraction is "1.0"
}

// String returns the id as the hub spells it: "vits14_0.01_2".
func (id ID) String() string {
	return id.Arch + "_" + id.Fraction + "_" + strconv.Itoa(id.Seed)
}

// HubPath is the file's path inside Repo: "vith14@476/vith14@476_1.0_1.pth" for the
// pretrained checkpoint, "finetuned_vits14/vits14_0.01_2.pth" for the finetuned one.
func (id ID) HubPath(finetuned bool) string {
	dir := id.Arch
	if finetuned {
		dir = "finetuned_" + id.Arch
	}
	return dir + "/" + id.String() + ".pth"
}

// All returns the 78 ids: by architecture in the order of Archs, then by fraction from the
// largest down, then by seed. The order is part of the API (listings and tests rely on it).
func All() []ID {
	ids := make([]ID, 0, 78)
	for _, a := range Archs {
		for _, f := range Fractions {
			for _, s := range Seeds {
				if f == "1.0" && s != 1 {
					continue
				}
				ids = append(ids, ID{a, f, s})
			}
		}
	}
	return ids
}

// idShape is what a model id looks like, valid or not: three '_'-separated fields, the first a
// name (letters, digits, '@' for the resolution suffix), then a number, then an integer. A file
// path has a '/' or an extension and so never matches.
var idShape = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9@]*_[0-9.]+_[0-9]+$`)

// LooksLikeID reports whether s has the shape of a model id (whether or not it names a real
// one), as opposed to a file path. A command line flag that takes either a model id or a
// checkpoint file uses it to decide which one it got, so that a mistyped id is reported as an
// unknown id with suggestions rather than as a missing file.
func LooksLikeID(s string) bool {
	return idShape.MatchString(s)
}

// ParseError says why a string is not a model id and which real ids are nearest to it.
type ParseError struct {
	Input       string
	Problem     string   // e.g. `no architecture "vitb16"`
	Suggestions []string // nearest valid ids by edit distance, best first; may be empty
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown model id %q: %s", e.Input, e.Problem)
	switch len(e.Suggestions) {
	case 0:
		b.WriteString("; model ids look like vits14_1.0_1 (architecture " + strings.Join(Archs, ", ") +
			"; fraction " + strings.Join(Fractions, ", ") + "; seed 1, 2 or 3, only 1 with fraction 1.0)")
	case 1:
		fmt.Fprintf(&b, "; did you mean %s?", e.Suggestions[0])
	default:
		last := len(e.Suggestions) - 1
		fmt.Fprintf(&b, "; did you mean %s or %s?", strings.Join(e.Suggestions[:last], ", "), e.Suggestions[last])
	}
	return b.String()
}

// Parse reads a model id such as "vith14@448_0.01_3". It accepts only the exact spelling the
// hub uses; anything else is a *ParseError that names the faulty part and suggests the nearest
// real ids.
func Parse(s string) (ID, error) {
	fail := func(format string, args ...any) (ID, error) {
		return ID{}, &ParseError{Input: s, Problem: fmt.Sprintf(format, args...), Suggestions: suggest(s)}
	}
	if s == "" {
		return ID{}, &ParseError{Input: s, Problem: "the id is empty"}
	}
	if strings.HasSuffix(s, ".pth") || strings.ContainsAny(s, `/\`) {
		return fail("that is a file name, not a model id (an id is arch_fraction_seed, without directory or .pth)")
	}
	parts := strings.Split(s, "_")
	if len(parts) != 3 {
		return fail("expected three parts arch_fraction_seed separated by '_', found %d", len(parts))
	}
	arch, fraction, seedText := parts[0], parts[1], parts[2]
	if !slices.Contains(Archs, arch) {
		return fail("no architecture %q (there are %s)", arch, strings.Join(Archs, ", "))
	}
	if !slices.Contains(Fractions, fraction) {
		return fail("no data fraction %q (there are %s)", fraction, strings.Join(Fractions, ", "))
	}
	seed, err := strconv.Atoi(seedText)
	if err != nil || strconv.Itoa(seed) != seedText {
		return fail("seed %q is not a plain number (seeds are 1, 2 and 3)", seedText)
	}
	if !slices.Contains(Seeds, seed) {
		return fail("no seed %d (seeds are 1, 2 and 3)", seed)
	}
	if fraction == "1.0" && seed != 1 {
		return fail("fraction 1.0 is the whole data set and has only seed 1, not %d", seed)
	}
	return ID{Arch: arch, Fraction: fraction, Seed: seed}, nil
}

// suggest returns the valid ids closest to s by edit distance (at most three, ties kept in the
// order of All), or none when even the closest is too far for the suggestion to help.
func suggest(s string) []string {
	in := strings.ToLower(strings.TrimSuffix(s, ".pth"))
	if i := strings.LastIndexAny(in, `/\`); i >= 0 {
		in = in[i+1:]
	}
	best := -1
	var out []string
	for _, id := range All() {
		d := editDistance(in, id.String())
		switch {
		case best < 0 || d < best:
			best, out = d, []string{id.String()}
		case d == best && len(out) < 3:
			out = append(out, id.String())
		}
	}
	// Beyond about half the length the "nearest" id is no longer a correction of what the user
	// typed but an unrelated one; the generic hint is more useful then, unless what was typed is
	// the start of real ids (a bare "vits14"), which are then completed.
	if best <= max(3, len(in)/2) {
		return out
	}
	out = nil
	for _, id := range All() {
		if strings.HasPrefix(id.String(), in+"_") && len(out) < 3 {
			out = append(out, id.String())
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (ids are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
