// Command vitc compiles and runs the humanlike-vits vision transformers.
//
//	vitc compile --model CHECKPOINT -o model.safetensors
//	vitc run --model model.safetensors --input x.npy --output y.npy
//	vitc inspect FILE
//
// Run `vitc help` for every command.
package main

import (
	"os"

	_ "github.com/vitc-dev/vitc/compiled/all"

	"github.com/vitc-dev/vitc/cmd/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
