// Command vitcgen generates the Go package of each compiled architecture, the package that
// links them all and, with -cmd, a program per architecture, from architecture names. `go generate ./...` runs it for the hub's six
// architectures (see compiled/generate.go); add another there, e.g. vitb14@448, to compile it
// into vitc.
//
//	vitcgen -cmd cmd -o compiled vits14 vitb14 vith14@448 'name=mine,embed=512,depth=8,heads=8,image=224'
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vitc-dev/vitc/gen/codegen"
)

func main() {
	out := flag.String("o", "compiled", "directory that receives one package per architecture and all/")
	cmd := flag.String("cmd", "", "directory that receives one program per architecture (e.g. cmd: cmd/vitl14); none if empty")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: vitcgen [-cmd dir] [-o dir] arch...\n\n"+
			"arch is a hub name with an optional resolution (vits14, vitb14, vitl14, vith14, vith14@448, vitb14@448)\n"+
			"or name=NAME,embed=D,depth=L,heads=H,image=S[,patch=P][,mlp=M].\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := codegen.WriteAll(*out, *cmd, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "vitcgen:", err)
		os.Exit(1)
	}
}
