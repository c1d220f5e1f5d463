//go:build !amd64 || purego

package asm

// peakLoops is empty where no FMA loop is written: PeakGFLOPS reports 0 (unknown).
var peakLoops = map[string]struct {
	loop  func(int)
	flops float64
}{}
