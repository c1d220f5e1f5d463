package cli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/gen/pack"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/vit"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

func cmdBench(e *env, args []string) error {
	fs := e.flags("bench", "(--model MODEL | --arch ARCH) [--batch B] [--iters N] [--kernels | [--profile] [--against VARIANT]]")
	var mf modelFlags
	mf.register(e, fs)
	archName := fs.String("arch", "", "benchmark this compiled architecture with random weights instead of a model (e.g. vitb14)")
	batch := fs.Int("batch", 1, "images per forward pass")
	iters := fs.Int("iters", 5, "timed forward passes, after one warm-up pass")
	kernels := fs.Bool("kernels", false, "time each available kernel variant on the model's matrix shapes instead")
	profile := fs.Bool("profile", false, "then run the passes again timing each step (matrix products, attention and its parts, LayerNorm), and print where the time goes")
	against := fs.String("against", "", "then compare the kernel variant with this one (e.g. avx2) in interleaved pairs of passes, which a drifting machine speed cannot bias")
	images := fs.String("images", "", "also time decoding and preprocessing the images of this directory (or file) on all cores, to compare with inference")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if mf.given(e) == (*archName != "") {
		return usagef("give --model or --arch")
	}
	if *batch <= 0 || *iters <= 0 {
		return usagef("--batch and --iters must be positive")
	}
	if *against != "" {
		if *kernels {
			return usagef("--kernels already times every variant: give --kernels or --against")
		}
		if !slices.Contains(asm.Available(), *against) {
			return usagef("--against %s: this CPU runs the kernel variants %s", *against, strings.Join(asm.Available(), ", "))
		}
		if *against == asm.Active() {
			return usagef("--against %s: that is the variant in use; pick another (%s) or set VITC_KERNEL", *against, strings.Join(asm.Available(), ", "))
		}
		if *iters < 2 {
			return usagef("--against needs --iters 2 or more (pairs of passes)")
		}
	}
	var m *vit.Model
	var err error
	if *archName != "" {
		m, err = randomModel(*archName, mf.opt.DType)
	} else {
		m, err = mf.load(e, manyImages)
	}
	if err != nil {
		return err
	}
	defer m.Close()
	if *kernels {
		if *profile {
			return usagef("--kernels and --profile are separate runs: give one")
		}
		return benchKernels(e, m.Arch(), *batch, *iters)
	}
	if err := benchModel(e, m, *batch, *iters); err != nil {
		return err
	}
	if *profile {
		if err := benchProfile(e, m, *batch, *iters); err != nil {
			return err
		}
	}
	if *against != "" {
		if err := benchAgainst(e, m, *batch, *iters, *against); err != nil {
			return err
		}
	}
	if *images != "" {
		return benchDecode(e, *images, m.ImageSize())
	}
	return nil
}

// benchDecode times the input pipeline alone: decoding and preprocessing every image on all
// cores, as classify and eval run it ahead of inference.
func benchDecode(e *env, dir string, size int) error {
	paths, err := listImages([]string{dir})
	if err != nil {
		return err
	}
	start := time.Now()
	n := 0
	bs, errc := batches(paths, size, 16, true)
	for b := range bs {
		n += len(b.paths)
	}
	if err := <-errc; err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "decoding and preprocessing: %d images in %.2f s, %.1f images/s on %d threads (inference must be slower for it to be the bottleneck)\n",
		n, el.Seconds(), float64(n)/el.Seconds(), runtime.GOMAXPROCS(0))
	return nil
}

// randomModel writes a random-weight weights file of a compiled architecture to a temporary
// file and opens it (a mapping keeps the file alive after its name is removed).
func randomModel(name, dtype string) (*vit.Model, error) {
	a, ok := engine.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("architecture %q is not compiled into this program (it has %v)", name, engine.Names())
	}
	c := arch.Config{Name: a.Name, Embed: a.Embed, Depth: a.Depth, Heads: a.Heads, Image: a.Image, Patch: a.Patch, MLP: a.MLP}
	dir, err := os.MkdirTemp("", "vitc-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "random.safetensors")
	if err := pack.WriteRandomDType(c, 1000, 1, dtype, path); err != nil {
		return nil, err
	}
	load, err := loadFor(manyImages)
	if err != nil {
		return nil, err
	}
	return vit.OpenSectionLoad(path, 0, -1, load)
}

func randomImages(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func benchModel(e *env, m *vit.Model, batch, iters int) error {
	a := m.Arch()
	s := a.Image
	x := randomImages(batch * 3 * s * s)
	fmt.Fprintf(e.stdout, "%s, kernel %s, %d threads, batch %d, weights %s\n", m, asm.Active(), runtime.GOMAXPROCS(0), batch, loadWords(m.Load()))
	if _, err := m.Forward(x, batch); err != nil { // warm-up: pages mapped, buffers made
		return err
	}
	times := make([]time.Duration, iters)
	for i := range times {
		start := time.Now()
		if _, err := m.Forward(x, batch); err != nil {
			return err
		}
		times[i] = time.Since(start)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med := times[len(times)/2]
	flops := float64(a.FLOPs) * float64(batch)
	fmt.Fprintf(e.stdout, "%d batches: median %.1f ms/batch (min %.1f, max %.1f), %.2f images/s, %.1f GFLOP/s\n",
		iters, ms(med), ms(times[0]), ms(times[len(times)-1]), float64(batch)/med.Seconds(), flops/med.Seconds()/1e9)
	return nil
}

// benchAgainst times the active kernel variant (a) against another (b) in iters pairs of
// passes, a and b back to back in alternating order, and prints both medians and the mean of
// the pairs' time ratios with its standard error. This VM's speed drifts by 5-15% over minutes;
// a pair's two passes see the same speed, so the paired ratio is what to quote.
func benchAgainst(e *env, m *vit.Model, batch, iters int, b string) error {
	a := asm.Active()
	defer func() { _ = asm.Use(a) }()
	x := randomImages(batch * 3 * m.ImageSize() * m.ImageSize())
	pass := func(variant string) (float64, error) {
		if err := asm.Use(variant); err != nil {
			return 0, err
		}
		start := time.Now()
		_, err := m.Forward(x, batch)
		return ms(time.Since(start)), err
	}
	if _, err := pass(b); err != nil { // warm-up for b (a's was benchModel's)
		return err
	}
	ta, tb, ratios := make([]float64, iters), make([]float64, iters), make([]float64, iters)
	for i := range iters {
		order := []*float64{&ta[i], &tb[i]}
		names := []string{a, b}
		if i%2 == 1 {
			order[0], order[1], names[0], names[1] = order[1], order[0], names[1], names[0]
		}
		for j := range order {
			t, err := pass(names[j])
			if err != nil {
				return err
			}
			*order[j] = t
		}
		ratios[i] = tb[i] / ta[i]
	}
	mean, ss := 0.0, 0.0
	for _, r := range ratios {
		mean += r
	}
	mean /= float64(iters)
	for _, r := range ratios {
		ss += (r - mean) * (r - mean)
	}
	se := math.Sqrt(ss / float64(iters-1) / float64(iters))
	medA, medB := upperMedian(ta), upperMedian(tb)
	fmt.Fprintf(e.stdout, "\n%s against %s: %d interleaved pairs of passes (the order alternates)\n", a, b, iters)
	fmt.Fprintf(e.stdout, "%s: median %.1f ms/batch; %s: median %.1f ms/batch\n", a, medA, b, medB)
	fmt.Fprintf(e.stdout, "%s takes %.3fx the time of %s (pairs: %.3f ± %.3f, the mean of their ratios ± its standard error)\n", b, medB/medA, a, mean, se)
	return nil
}

// upperMedian is the middle of x (the upper one for even lengths), as vitc bench reports.
func upperMedian(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchProfile runs iters more passes with an engine.Profile and prints a line per step.
func benchProfile(e *env, m *vit.Model, batch, iters int) error {
	x := randomImages(batch * 3 * m.ImageSize() * m.ImageSize())
	var p engine.Profile
	for range iters {
		if err := m.Profile(x, batch, &p); err != nil {
			return err
		}
	}
	n := float64(p.Passes)
	perPass := func(d time.Duration) float64 { return ms(d) / n }
	total := perPass(p.Total)
	fmt.Fprintf(e.stdout, "\nwhere a pass goes: %d profiled passes on %d threads (busy: the threads' share of the step's wall time spent in its tasks)\n", p.Passes, p.Workers)
	fmt.Fprintf(e.stdout, "%-12s %-16s %10s %9s %7s %8s %6s\n", "step", "shape", "calls/pass", "ms/pass", "share", "GFLOP/s", "busy")
	var steps time.Duration
	var flops float64
	for _, s := range p.Steps {
		steps += s.Wall
		flops += s.FLOPs
		gf, busy := "–", "–"
		if s.FLOPs > 0 && s.Wall > 0 {
			gf = fmt.Sprintf("%.1f", s.FLOPs/s.Wall.Seconds()/1e9)
		}
		if s.Busy > 0 && s.Wall > 0 {
			busy = fmt.Sprintf("%.0f%%", 100*s.Busy.Seconds()/(s.Wall.Seconds()*float64(p.Workers)))
		}
		fmt.Fprintf(e.stdout, "%-12s %-16s %10.0f %9.2f %6.1f%% %8s %6s\n", s.Name, s.Shape, float64(s.Calls)/n, perPass(s.Wall), 100*perPass(s.Wall)/total, gf, busy)
	}
	between := perPass(p.Total - steps)
	fmt.Fprintf(e.stdout, "%-12s %-16s %10s %9.2f %6.1f%%\n", "(between)", "", "", between, 100*between/total)
	fmt.Fprintf(e.stdout, "%-12s %-16s %10s %9.2f %6.1f%% %8.1f\n", "pass", "", "", total, 100.0, flops/p.Total.Seconds()/1e9)
	w := n * float64(p.Workers)
	fmt.Fprintf(e.stdout, "attention, ms a pass per thread: pack k and v %.2f, q·kᵀ %.2f, softmax %.2f, p·v %.2f\n",
		ms(p.Pack)/w, ms(p.Scores)/w, ms(p.Softmax)/w, ms(p.Output)/w)
	return nil
}

// timeProduct runs fn once to warm up, then iters times, and returns the GFLOP/s of an
// m×n×k product at the median time.
func timeProduct(m, n, k, iters int, fn func()) float64 {
	fn()
	times := make([]time.Duration, iters)
	for i := range times {
		start := time.Now()
		fn()
		times[i] = time.Since(start)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return 2 * float64(m) * float64(n) * float64(k) / times[len(times)/2].Seconds() / 1e9
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchKernels times every available kernel variant on the architecture's matrix products at
// the batch's row count, on all threads as the model runs them.
func benchKernels(e *env, a *engine.Arch, batch, iters int) error {
	rows := batch * a.Tokens()
	d, mlp := a.Embed, a.MLP
	shapes := []struct {
		name    string
		n, k    int
		perRows int
	}{
		{"patch_embed", d, 3 * a.Patch * a.Patch, batch * a.Grid() * a.Grid()},
		{"attn.qkv", 3 * d, d, rows},
		{"attn.proj", d, d, rows},
		{"mlp.fc1", mlp, d, rows},
		{"mlp.fc2", d, mlp, rows},
	}
	defer asm.Use(asm.Active())
	fmt.Fprintf(e.stdout, "%s matrix products at batch %d, %d threads: GFLOP/s (median of %d) and share of the FMA peak\n", a.Name, batch, runtime.GOMAXPROCS(0), iters)
	fmt.Fprintf(e.stdout, "(the peak is a register-only fused multiply-add loop of the variant's instructions on all threads)\n")
	fmt.Fprintf(e.stdout, "%-10s %-12s", "variant", "FMA peak")
	for _, s := range shapes {
		fmt.Fprintf(e.stdout, " %16s", s.name)
	}
	fmt.Fprintln(e.stdout)
	for _, v := range asm.Available() {
		if err := asm.Use(v); err != nil {
			return err
		}
		peak := asm.PeakGFLOPS(v, runtime.GOMAXPROCS(0), 200*time.Millisecond)
		peakText := "unknown"
		if peak > 0 {
			peakText = fmt.Sprintf("%.0f", peak)
		}
		fmt.Fprintf(e.stdout, "%-10s %-12s", v, peakText)
		f32 := make([]float64, len(shapes))
		for i, s := range shapes {
			src := randomImages(s.perRows * s.k)
			w := randomImages((s.n + asm.PanelWidth - 1) / asm.PanelWidth * asm.PanelWidth * asm.PanelRows(s.k))
			dst := make([]float32, s.perRows*s.n)
			gf := timeProduct(s.perRows, s.n, s.k, iters, func() { engine.MatMul(dst, src, w, nil, s.perRows, s.n, s.k, asm.Store) })
			f32[i] = gf
			if peak > 0 {
				fmt.Fprintf(e.stdout, " %9.1f (%3.0f%%)", gf, 100*gf/peak)
			} else {
				fmt.Fprintf(e.stdout, " %16.1f", gf)
			}
		}
		fmt.Fprintln(e.stdout)
		// The blocks' products with bfloat16 and int8 weights (the patch embedding stays float32).
		bf16, int8 := asm.LowpKernels()
		for _, dt := range []struct{ name, kernel string }{{engine.BF16, bf16}, {engine.Int8, int8}} {
			fmt.Fprintf(e.stdout, "  %-8s %-12s %16s", dt.name, dt.kernel, "")
			for i, s := range shapes[1:] {
				src := randomImages(s.perRows * s.k)
				w := randomImages(s.n * s.k)
				lw := &engine.LowpMatrix{}
				if dt.name == engine.BF16 {
					lw.BF16 = asm.PackBF16(w, s.n, s.k)
				} else {
					lw.I8, lw.Scales, lw.Sums = asm.PackInt8(w, s.n, s.k)
				}
				dst := make([]float32, s.perRows*s.n)
				gf := timeProduct(s.perRows, s.n, s.k, iters, func() { engine.MatMulLowp(dst, src, lw, nil, s.perRows, s.n, s.k, asm.Store) })
				fmt.Fprintf(e.stdout, " %8.1f (%.2fx)", gf, gf/f32[i+1])
			}
			fmt.Fprintln(e.stdout)
		}
	}
	fmt.Fprintf(e.stdout, "(bf16 and int8: GFLOP/s counting 2 per multiply-add, and the ratio to the variant's float32)\n")
	fmt.Fprintf(e.stdout, "(rows × n × k: patch_embed %d×%d×%d, the rest %d rows)\n", shapes[0].perRows, d, shapes[0].k, rows)
	return nil
}

// loadWords says how the weights came into memory, with the setting that changes it.
func loadWords(l wfile.Load) string {
	if l == wfile.Map {
		return "mapped from the file (" + wfile.EnvLoad + "=map)"
	}
	return "read into memory (" + wfile.EnvLoad + "=copy)"
}
