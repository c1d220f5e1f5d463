package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/vitc-dev/vitc/runtime/imageio"
	"github.com/vitc-dev/vitc/runtime/preprocess"
)

// imageExtensions are torchvision's IMG_EXTENSIONS, matched case-insensitively as
// ImageFolder does.
var imageExtensions = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

func isImage(name string) bool {
	lower := strings.ToLower(name)
	for _, e := range imageExtensions {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}

// listImages expands the arguments: files as given, directories to the image files below
// them in sorted order (symlinks followed, as ImageFolder does).
func listImages(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = walk(a, func(p string) { found = append(found, p) })
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no image files (%s) in it", a, strings.Join(imageExtensions, " "))
		}
		out = append(out, found...)
	}
	return out, nil
}

// walk calls fn for every image file below dir, in sorted order, following symlinks.
func walk(dir string, fn func(string)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err == nil {
				isDir = st.IsDir()
			}
		}
		switch {
		case isDir:
			if err := walk(p, fn); err != nil {
				return err
			}
		case isImage(e.Name()):
			fn(p)
		}
	}
	return nil
}

// loadImage decodes an image file and makes the model's input tensor from it exactly as
// test_model.py's transform: Resize(size+32), CenterCrop(size), ToTensor, Normalize.
func loadImage(path string, size int, dst []float32) error {
	img, err := imageio.DecodeFile(path)
	if err != nil {
		return err
	}
	preprocess.Eval(dst, (*preprocess.RGB)(img), size)
	return nil
}

// batchOf is a batch of preprocessed images, in the order of the paths.
type batchOf struct {
	paths   []string
	x       []float32
	skipped []skipped // unreadable images left out (with skipBad)
}

type skipped struct {
	path string
	err  error
}

// batches decodes and preprocesses the images on all cores, a batch ahead of the consumer,
// and hands the batches over in order. With skipBad an unreadable image is reported in
// skipped and left out of x; otherwise the first error ends the stream.
func batches(paths []string, size, batch int, skipBad bool) (<-chan batchOf, <-chan error) {
	out := make(chan batchOf, 1)
	errc := make(chan error, 1)
	per := 3 * size * size
	go func() {
		defer close(out)
		defer close(errc)
		workers := runtime.GOMAXPROCS(0)
		for i := 0; i < len(paths); i += batch {
			ps := paths[i:min(i+batch, len(paths))]
			x := make([]float32, len(ps)*per)
			failed := make([]error, len(ps))
			var wg sync.WaitGroup
			sem := make(chan struct{}, workers)
			for j, p := range ps {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					failed[j] = loadImage(p, size, x[j*per:(j+1)*per])
				}()
			}
			wg.Wait()
			var b batchOf
			kept := x[:0]
			for j, p := range ps {
				if failed[j] != nil {
					if !skipBad {
						errc <- failed[j]
						return
					}
					b.skipped = append(b.skipped, skipped{p, failed[j]})
					continue
				}
				b.paths = append(b.paths, p)
				kept = append(kept, x[j*per:(j+1)*per]...)
			}
			b.x = kept
			out <- b
		}
	}()
	return out, errc
}
