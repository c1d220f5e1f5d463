package labels

import (
	"sort"
	"testing"
)

func TestImageNet(t *testing.T) {
	if len(ImageNet) != 1000 {
		t.Fatalf("%d classes", len(ImageNet))
	}
	if c := ImageNet[0]; c.WNID != "n01440764" || c.Name != "tench" {
		t.Errorf("class 0 = %+v", c)
	}
	// ImageFolder numbers classes by sorted folder name: the WordNet ids must be sorted.
	if !sort.SliceIsSorted(ImageNet, func(i, j int) bool { return ImageNet[i].WNID < ImageNet[j].WNID }) {
		t.Error("WordNet ids are not in sorted order")
	}
	if i, ok := ByWNID("n01443537"); !ok || i != 1 {
		t.Errorf("ByWNID(goldfish) = %d %v", i, ok)
	}
	if _, ok := ByWNID("n00000000"); ok {
		t.Error("unknown id found")
	}
}
