package asm

import (
	"runtime"
	"sync"
	"time"
)

// PeakGFLOPS measures the multiply-add rate of the named variant's instructions on registers
// alone, on threads goroutines at once: the ceiling the kernels' GFLOP/s are judged against.
// It returns 0 where no such loop exists for the variant (generic, and NEON for now). It takes
// about d.
func PeakGFLOPS(variant string, threads int, d time.Duration) float64 {
	p, ok := peakLoops[variant]
	if !ok || threads <= 0 {
		return 0
	}
	if v, ok := variants[variant]; !ok || !v.Available {
		return 0
	}
	const n = 50000 // iterations a call: well under a millisecond
	p.loop(n)       // warm up (frequency, instruction cache)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0.0
	start := time.Now()
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			calls := 0
			for time.Since(start) < d {
				p.loop(n)
				calls++
			}
			mu.Lock()
			total += float64(calls) * n * p.flops
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total / time.Since(start).Seconds() / 1e9
}
