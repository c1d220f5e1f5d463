// Package compiled holds the generated packages of the compiled architectures, one directory
// each, and all/, which links them all. Regenerate them with `go generate ./...`; to compile
// another architecture into vitc, add it to the list below (e.g. vitb14@448).
package compiled

//go:generate go run ../cmd/vitcgen -cmd ../cmd -o . vits14 vitb14 vitl14 vith14 vith14@448 vith14@476
