package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vitc-dev/vitc/runtime/engine"
)

// TestProfile: a profiled pass names every step of the architecture, counts each as often as
// the model has it (the last block's steps after its keys and values over the class tokens
// alone, its qkv product in two parts), adds up to exactly Arch.FLOPs, keeps its times consistent (the steps within
// the pass, the workers' time within the steps), and leaves the output bit for bit unchanged.
func TestProfile(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		name         string
		batch, procs int
	}{{"tiny", 1, 2}, {"tiny", 3, 2}, {"odd", 2, 3}, {"odd", 1, 1}} {
		runtime.GOMAXPROCS(c.procs)
		r := rand.New(rand.NewPCG(5, 6))
		a, w := randomWeights(t, c.name, r)
		run := randomRun(a, w, c.batch, r)
		run.Forward()
		want := append([]float32(nil), run.Out...)

		var p engine.Profile
		run.Profile = &p
		const passes = 3
		for range passes {
			run.Forward()
		}
		run.Profile = nil
		for i := range want {
			if math.Float32bits(run.Out[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: a profiled pass changed output %d: %g, want %g", c.name, i, run.Out[i], want[i])
			}
		}
		if p.Passes != passes || p.Workers != c.procs {
			t.Errorf("%s: %d passes on %d workers, want %d on %d", c.name, p.Passes, p.Workers, passes, c.procs)
		}
		perPass := map[string]int{"patch_embed": 1, "norm": 2 * a.Depth, "attn.qkv": a.Depth + 1, "attention": a.Depth,
			"attn.proj": a.Depth, "mlp.fc1": a.Depth, "mlp.fc2": a.Depth, "final norm": 1}
		// The class tokens' steps: shapes of batch rows, once a pass (norm2 and each product).
		classOnly := map[string]int{}
		calls := map[string]int{}
		var flops float64
		var wall time.Duration
		for _, s := range p.Steps {
			if _, ok := perPass[s.Name]; !ok {
				t.Errorf("%s: unexpected step %q (%s)", c.name, s.Name, s.Shape)
				continue
			}
			calls[s.Name] += s.Calls
			if s.Name != "final norm" && strings.HasPrefix(s.Shape, fmt.Sprintf("%d×", c.batch)) {
				classOnly[s.Name] += s.Calls
			}
			if s.Busy > s.Wall*time.Duration(c.procs)+s.Wall/10 {
				t.Errorf("%s: %s: workers busy %v in %v of wall time on %d threads", c.name, s.Name, s.Busy, s.Wall, c.procs)
			}
			flops += s.FLOPs
			wall += s.Wall
		}
		for name, n := range perPass {
			if calls[name] != n*passes {
				t.Errorf("%s: %s ran %d times in %d passes, want %d a pass", c.name, name, calls[name], passes, n)
			}
		}
		for _, name := range []string{"norm", "attn.qkv", "attention", "attn.proj", "mlp.fc1", "mlp.fc2"} {
			if classOnly[name] != passes {
				t.Errorf("%s: %s ran %d times over the %d class tokens alone in %d passes, want once a pass", c.name, name, classOnly[name], c.batch, passes)
			}
		}
		if want := float64(a.FLOPs) * float64(c.batch) * passes; flops != want {
			t.Errorf("%s: the steps count %g FLOPs, Arch.FLOPs gives %g", c.name, flops, want)
		}
		if wall > p.Total {
			t.Errorf("%s: the steps took %v of a %v total", c.name, wall, p.Total)
		}
		if parts := p.Pack + p.Scores + p.Softmax + p.Output; parts <= 0 {
			t.Errorf("%s: attention's parts took %v", c.name, parts)
		}
	}
}
