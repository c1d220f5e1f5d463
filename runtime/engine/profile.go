package engine

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vitc-dev/vitc/asm"
)

// Profile collects where a Run's forward passes spend their time, step by step: set
// Run.Profile before Forward, and read it after (vitc bench --profile prints one). Profiling
// costs a clock reading around each step and each task of a matrix product; without a
// Profile the pass reads no clock.
type Profile struct {
	Passes  int
	Total   time.Duration // the passes' wall-clock time
	Workers int           // the goroutines that shared the work (GOMAXPROCS at NewRun)
	Steps   []*StepTime   // in the order the first pass ran them, one per kind and shape
	// Attention's parts, summed over the workers: packing keys and values, the scores
	// q·kᵀ, their softmax, and the output p·v.
	Pack, Scores, Softmax, Output time.Duration

	byName map[string]*StepTime
}

// StepTime is one kind of step, e.g. the qkv products of every block.
type StepTime struct {
	Name  string // the PyTorch module, e.g. "attn.qkv" (see Run.Linear), or "attention", "norm"
	Shape string // rows×n×k of a matrix product, tokens×width of the others
	Calls int
	Wall  time.Duration // from the step's start to its end, on the calling goroutine
	Busy  time.Duration // the workers' time in the step's tasks, summed; 0 where not measured
	FLOPs float64       // 2 per multiply-add, as Arch.FLOPs counts them
}

// step returns the entry of name and shape, made on first use.
func (p *Profile) step(name, shape string) *StepTime {
	key := name + " " + shape
	s, ok := p.byName[key]
	if !ok {
		if p.byName == nil {
			p.byName = map[string]*StepTime{}
		}
		s = &StepTime{Name: name, Shape: shape}
		p.byName[key] = s
		p.Steps = append(p.Steps, s)
	}
	return s
}

// stepTimer times one step of a Run with a Profile; its zero value (no Profile) does nothing.
type stepTimer struct {
	s     *StepTime
	start time.Time
	busy  *atomic.Int64 // the tasks' nanoseconds, for the matrix products
}

// begin starts timing a step of shape a×b×c (a×b where c is 0); flops are its operations.
func (r *Run) begin(name string, a, b, c int, flops float64) stepTimer {
	if r.Profile == nil {
		return stepTimer{}
	}
	shape := fmt.Sprintf("%d×%d", a, b)
	if c > 0 {
		shape += fmt.Sprintf("×%d", c)
	}
	s := r.Profile.step(name, shape)
	s.Calls++
	s.FLOPs += flops
	r.busy.Store(0)
	return stepTimer{s: s, start: time.Now(), busy: &r.busy}
}

// end stops it.
func (t stepTimer) end() {
	if t.s == nil {
		return
	}
	t.s.Wall += time.Since(t.start)
	t.s.Busy += time.Duration(t.busy.Load())
}

// tasks is the counter a step's tasks add their time to, nil without a Profile.
func (t stepTimer) tasks() *atomic.Int64 { return t.busy }

// linearName names a product of the Run's architecture after the module that computes it:
// the MLP's first Linear is the one with the GELU, the qkv projection the one three times as
// wide as the embedding; the others are told apart by their inner dimension.
func (r *Run) linearName(n, k int, epi asm.Epilogue) string {
	d, m := r.Arch.Embed, r.Arch.MLP
	switch {
	case epi == asm.GELU:
		return "mlp.fc1"
	case n == 3*d && k == d:
		return "attn.qkv"
	case k == m && k != d:
		return "mlp.fc2"
	case n == d && k == d:
		return "attn.proj"
	}
	return "linear"
}

// attentionPart indexes a worker's attention times: packing, scores, softmax, output.
type attentionPart int

const (
	partPack attentionPart = iota
	partScores
	partSoftmax
	partOutput
	attentionParts
)

// clock returns the time now when the Run is profiled, else the zero Time (and reads no
// clock).
func (r *Run) clock() time.Time {
	if r.Profile == nil {
		return time.Time{}
	}
	return time.Now()
}

// lap adds the time since start to worker's part and returns the time now (profiled Runs only).
func (r *Run) lap(worker int, part attentionPart, start time.Time) time.Time {
	if r.Profile == nil {
		return start
	}
	now := time.Now()
	r.parts[worker][part] += now.Sub(start)
	return now
}

// collectParts adds the workers' attention times to the Profile, clears them, and returns
// their sum.
func (r *Run) collectParts() time.Duration {
	p := r.Profile
	var sum time.Duration
	for w := range r.parts {
		pt := &r.parts[w]
		p.Pack += pt[partPack]
		p.Scores += pt[partScores]
		p.Softmax += pt[partSoftmax]
		p.Output += pt[partOutput]
		for _, d := range pt {
			sum += d
		}
		*pt = [attentionParts]time.Duration{}
	}
	return sum
}
