//go:build !purego

package asm

// fmaLoopAVX512 runs n iterations of 12 independent 16-wide fused multiply-adds (384 flops
// each) on registers only. n > 0; keep n·12 under ~10⁶ so one call stays short.
//
//go:noescape
func fmaLoopAVX512(n int)

// fmaLoopAVX2 is fmaLoopAVX512 with 8-wide registers (192 flops an iteration).
//
//go:noescape
func fmaLoopAVX2(n int)

// peakLoops are the FMA loops by variant, with the flops one iteration does.
var peakLoops = map[string]struct {
	loop  func(int)
	flops float64
}{
	"avx512": {fmaLoopAVX512, 12 * 16 * 2},
	"avx2":   {fmaLoopAVX2, 12 * 8 * 2},
}
