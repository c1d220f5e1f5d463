package checkpoint_test

import (
	"fmt"
	"log"

	"github.com/vitc-dev/vitc/gen/checkpoint"
)

func ExampleOpen() {
	c, err := checkpoint.Open("testdata/mae_zip.pth")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	model, _ := c.ArgString("model")
	size, _ := c.ArgInt("input_size")
	fmt.Println(c.Format, model, size, c.Epoch, c.Extras)

	pos := c.Tensors["pos_embed"]
	values, err := pos.Float32() // read now, from the file
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pos.DType, pos.Shape, len(values))
	// Output:
	// zip mae_vit_small_patch14 224 7 [optimizer scaler]
	// float32 [1 5 8] 40
}
