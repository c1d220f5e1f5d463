//go:build !race

package vit_test

const raceEnabled = false
