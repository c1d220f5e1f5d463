// Package labels holds the 1000 ImageNet classes in the order of the finetuned models'
// outputs: index, WordNet id and name (the sorted WordNet ids of the ImageNet training folder,
// as torchvision's ImageFolder numbers them).
package labels

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// Class is one ImageNet class.
type Class struct {
	Index int
	WNID  string // WordNet id, e.g. "n01440764"
	Name  string // e.g. "tench"
}

//go:embed imagenet_classes.tsv
var tsv string

// ImageNet lists the classes by index.
var ImageNet = parse(tsv)

var byWNID = func() map[string]int {
	m := make(map[string]int, len(ImageNet))
	for _, c := range ImageNet {
		m[c.WNID] = c.Index
	}
	return m
}()

// ByWNID returns the index of the class with that WordNet id.
func ByWNID(wnid string) (int, bool) {
	i, ok := byWNID[wnid]
	return i, ok
}

func parse(s string) []Class {
	var out []Class
	for n, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if n == 0 {
			continue // header
		}
		f := strings.Split(line, "\t")
		i, err := strconv.Atoi(f[0])
		if len(f) != 3 || err != nil || i != len(out) {
			panic(fmt.Sprintf("labels: imagenet_classes.tsv line %d is malformed: %q", n+1, line))
		}
		out = append(out, Class{Index: i, WNID: f[1], Name: f[2]})
	}
	return out
}
