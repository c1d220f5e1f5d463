//go:build race

package vit_test

// raceEnabled: the race detector makes sync.Pool drop a quarter of what it is given back, so
// allocation counts mean nothing under it.
const raceEnabled = true
