// Package testarch holds small architectures compiled for tests only: "tiny" (widths that
// are multiples of the 16-wide panels) and "odd" (widths that are not, so every edge and pad
// path runs), plus tiny at 56 px for position-embedding interpolation. The fixtures in
// gen/testdata are checkpoints of these shapes. They are generated like the hub's, and the
// golden-file test of the generator compares against them.
package testarch

//go:generate go run ../../cmd/vitcgen -cmd ../../cmd/internal/testarch -o . name=tiny,embed=32,depth=2,heads=2,image=42 name=tiny@56,embed=32,depth=2,heads=2,image=56 name=odd,embed=24,depth=3,heads=3,image=56,mlp=96
