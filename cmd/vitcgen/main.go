// Command vitcgen generates the Go package of each compiled architecture, and the package
// that links them all, from architecture names. `go generate ./...` runs it for the hub's six
// architectures (see compiled/generate.go); add another there, e.g. vitb14@448, to compile it
// into vitc.
//
//	vitcgen -o compiled vits14 vitb14 vith14@448 'name=mine,embed=512,depth=8,heads=8,image=224'
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vitc-dev/vitc/gen/codegen"
)

func main() {
	out := flag.String("o", "compiled", "directory that receives one package per architecture and all/")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: vitcgen [-o dir] arch...\n\n"+
			"arch is a hub name with an optional resolution (vits14, vitb14, vitl14, vith14, vith14@448, vitb14@448)\n"+
			"or name=NAME,embed=D,depth=L,heads=H,image=S[,patch=P][,mlp=M].\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := codegen.WriteAll(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "vitcgen:", err)
		os.Exit(1)
	}
}
