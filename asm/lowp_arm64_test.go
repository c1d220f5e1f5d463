//go:build !purego

package asm

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestLowpNEONKernels checks each NEON kernel, whichever the variant chooses, on the sizes of
// lowpSweep, also with a tiny k per call (the tile carried from call to call).
func TestLowpNEONKernels(t *testing.T) {
	t.Logf("DotProd: %v", cpu.ARM64.HasASIMDDP)
	for i, nl := range []*neonLowp{neonSDOT, neonSMULL} {
		if nl == neonSDOT && !cpu.ARM64.HasASIMDDP {
			t.Logf("%s: no DotProd on this CPU", nl.name)
			continue
		}
		small := *nl
		small.maxK, small.mc = 16, 2*nl.mr // k in calls of 16: the tile carried over
		lowpSweep(t, nl.name, neonWiden.gemmBF16, nl.gemmInt8, uint64(200+i))
		lowpSweep(t, nl.name+"/small-blocks", neonWiden.gemmBF16, small.gemmInt8, uint64(210+i))
	}
	small := *neonWiden
	small.maxK, small.mc = 16, 12
	lowpSweep(t, "neon-widen/small-blocks", small.gemmBF16, gemmInt8Generic, 220)
}

func TestLowpNEONChosen(t *testing.T) {
	if err := Use("neon"); err != nil {
		t.Fatal(err)
	}
	bf, i8 := LowpKernels()
	if bf != "neon-widen" || (i8 != "neon-sdot" && i8 != "neon-smull") {
		t.Fatalf("LowpKernels() = %s, %s", bf, i8)
	}
}
