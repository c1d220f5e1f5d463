//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// amd64Drivers are the amd64 variants' drivers, each also with tiny cache blocks so that the
// k, row and panel blocking run on small sizes (up to 3 tiles of rows packed whole, more in
// blocks of 2 tiles).
func amd64Drivers() map[string]*blocked {
	out := map[string]*blocked{}
	for _, v := range amd64Variants {
		if !v.available {
			continue
		}
		out[v.name] = v.blocked()
		small := v.blocked()
		small.kc, small.mc, small.mcWhole, small.nc = 5, 2*v.mr, 3*v.mr, 2*v.tilePanels
		out[v.name+"/small-blocks"] = small
	}
	return out
}

// TestSgemmAMD64Edges checks the amd64 variants against a float64 product on both sides of
// every tile and block edge: rows around multiples of 6 and 8, columns around the one-, two-
// and three-panel tiles, k around the unrolling by 4 and the k block, padded lda and ldc, bias or
// none, every epilogue. Elements past the end of c must stay untouched.
func TestSgemmAMD64Edges(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ms := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 23, 24, 25, 37}
	ns := []int{1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 80, 96, 97}
	ks := []int{1, 2, 3, 4, 5, 9, 16, 33}
	for name, bl := range amd64Drivers() {
		worst := 0.0
		for _, m := range ms {
			for _, n := range ns {
				k := ks[(m+n)%len(ks)]
				for _, epi := range []Epilogue{Store, Accumulate, GELU} {
					for _, withBias := range []bool{false, true} {
						lda, ldc := k+(m%3), n+(n%4)
						a := randSlice(r, (m-1)*lda+k)
						w := randSlice(r, n*k)
						var bias []float32
						if withBias {
							bias = randSlice(r, n)
						}
						c := randSlice(r, (m-1)*ldc+n+16) // 16 guard elements
						want := append([]float32(nil), c...)
						bl.sgemm(m, n, k, a, lda, pack(w, n, k), c[:(m-1)*ldc+n], ldc, bias, epi)
						naive(m, n, k, a, lda, w, want, ldc, bias, epi)
						for i := range c {
							d := math.Abs(float64(c[i] - want[i]))
							tol := 1e-5 * (1 + math.Abs(float64(want[i]))) * math.Sqrt(float64(k))
							if d > tol || c[i] != c[i] || (i >= (m-1)*ldc+n && d != 0) {
								t.Fatalf("%s m=%d n=%d k=%d epi=%d bias=%v: element %d = %g, want %g", name, m, n, k, epi, withBias, i, c[i], want[i])
							}
							worst = max(worst, d)
						}
					}
				}
			}
		}
		t.Logf("%s: max abs difference from float64 %.3g", name, worst)
	}
}

// TestSgemmAMD64Blocks runs shapes larger than the real cache blocks: k over two and three k
// blocks, rows in one block and over two row blocks, columns over two panel blocks, and rows
// 512 floats apart (which the driver copies rather than reads where they lie).
func TestSgemmAMD64Blocks(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	r := rand.New(rand.NewPCG(13, 14))
	for name, bl := range amd64Drivers() {
		for _, s := range []struct{ m, n, k int }{
			{bl.mc + 1, 33, 2*bl.kc + 1}, {bl.mcWhole + 1, 33, bl.kc + 1}, {13, bl.nc*PanelWidth + 17, bl.kc - 1}, {25, 40, 3*bl.kc - 2}, {37, 100, 512},
		} {
			for _, epi := range []Epilogue{Store, Accumulate, GELU} {
				t.Run(fmt.Sprintf("%s/%dx%dx%d/epi=%d", name, s.m, s.n, s.k, epi), func(t *testing.T) {
					lda, ldc := s.k+1, s.n+3
					if s.k%256 == 0 {
						lda = s.k
					}
					a := randSlice(r, (s.m-1)*lda+s.k)
					w := randSlice(r, s.n*s.k)
					bias := randSlice(r, s.n)
					c := randSlice(r, (s.m-1)*ldc+s.n)
					want := append([]float32(nil), c...)
					bl.sgemm(s.m, s.n, s.k, a, lda, pack(w, s.n, s.k), c, ldc, bias, epi)
					naive(s.m, s.n, s.k, a, lda, w, want, ldc, bias, epi)
					for i := range c {
						d := math.Abs(float64(c[i] - want[i]))
						if d > 1e-5*(1+math.Abs(float64(want[i])))*math.Sqrt(float64(s.k)) {
							t.Fatalf("element %d = %g, want %g", i, c[i], want[i])
						}
					}
				})
			}
		}
	}
}

// TestKernelArguments calls the micro-kernels directly on the cases the driver rarely makes:
// no panels, kc = 0, one row, prefetching B past the last panel and past its end.
func TestKernelArguments(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	a := randSlice(r, 12*24)
	b := randSlice(r, 3*16*8)
	bias := randSlice(r, 48)
	for name, bl := range amd64Drivers() {
		c := randSlice(r, 12*48)
		orig := append([]float32(nil), c...)
		last := 16
		if bl.lastMask {
			last = 0xffff
		}
		bl.kernel(&a[0], 24, &b[0], &c[0], 8, 0, 16*8, 48, bl.mr, last, &bias[0], 0, nil, 0, 0, 0, 0)
		for i := range c {
			if c[i] != orig[i] {
				t.Fatalf("%s: no panels wrote element %d", name, i)
			}
		}
		// kc = 0: c = bias; one row: only row 0 written.
		bl.kernel(&a[0], 24, &b[0], &c[0], 0, 3, 16*8, 48, 1, last, &bias[0], flagPrefetchB, nil, 0, 0, 0, 0)
		for i := range c {
			want := orig[i]
			if i < 48 {
				want = bias[i]
			}
			if c[i] != want {
				t.Fatalf("%s: kc=0 rows=1: element %d = %g, want %g", name, i, c[i], want)
			}
		}
		// Prefetching B, into L1 and L2 (past its end, too), changes nothing.
		want := append([]float32(nil), orig...)
		bl.kernel(&a[0], 24, &b[0], &want[0], 8, 3, 16*8, 48, bl.mr, last, &bias[0], 0, nil, 0, 0, 0, 0)
		copy(c, orig)
		bl.kernel(&a[0], 24, &b[0], &c[0], 8, 3, 16*8, 48, bl.mr, last, &bias[0], flagPrefetchB, &b[len(b)-1], 1000, 3, 64, 64*1001)
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("%s: prefetching B: element %d = %g, want %g", name, i, c[i], want[i])
			}
		}
	}
}

// TestBlockSplit checks the splits of a product's panels into B blocks: from 0 to panels,
// each block starting on a whole tile, none empty; with a ramp, blocks of 1, 2, 4 tiles'
// panels first, in at most half of them and leaving two tiles' panels; after them, as few
// blocks as take at most nc panels each (give or take a tile), their widths within a tile of
// each other but for a short last tile.
func TestBlockSplit(t *testing.T) {
	for _, tp := range []int{1, 3} {
		for _, nc := range []int{tp, 2 * tp, 12, 21} {
			bl := &blocked{tp: tp, nc: nc}
			for panels := 1; panels <= 300; panels++ {
				for _, ramp := range []bool{false, true} {
					sp := bl.split(panels, ramp)
					where := fmt.Sprintf("tp %d nc %d panels %d ramp %v", tp, nc, panels, ramp)
					if !ramp && sp.ramp != 0 || ramp && (sp.rampPanels > (panels+tp-1)/tp/2*tp || sp.ramp > 0 && panels-sp.rampPanels < 2*tp) {
						t.Fatalf("%s: %d ramp blocks of %d panels", where, sp.ramp, sp.rampPanels)
					}
					end, lo, hi := 0, panels, 0
					for b := range sp.blocks() {
						p0, p1 := sp.block(b)
						if p0 != end || p0%tp != 0 || p1 <= p0 {
							t.Fatalf("%s: block %d is [%d, %d) after %d", where, b, p0, p1, end)
						}
						end = p1
						if b < sp.ramp {
							if p1-p0 != tp<<b {
								t.Fatalf("%s: ramp block %d is [%d, %d)", where, b, p0, p1)
							}
							continue
						}
						if p1-p0 > nc+tp {
							t.Fatalf("%s: block %d is [%d, %d)", where, b, p0, p1)
						}
						if b < sp.blocks()-1 {
							lo, hi = min(lo, p1-p0), max(hi, p1-p0)
						}
					}
					if end != panels {
						t.Fatalf("%s: blocks end at %d", where, end)
					}
					if sp.even != (panels-sp.rampPanels+nc-1)/nc {
						t.Fatalf("%s: %d blocks after the ramp", where, sp.even)
					}
					if sp.even > 2 && hi-lo > tp {
						t.Fatalf("%s: blocks of %d to %d panels", where, lo, hi)
					}
				}
			}
		}
	}
}

// TestPrefetchPlan checks which lines of the next block of B each tile fetches: consecutive
// tiles, the last of them the block's last whole tile, each from where the one before ended
// and no more than its k steps can issue, together every line of the next block once.
func TestPrefetchPlan(t *testing.T) {
	for _, tp := range []int{1, 3} {
		bl := &blocked{tp: tp}
		for _, c := range []struct{ np, kb, kc, k, next, tiles int }{
			{21, 384, 384, 768, 21, 32}, {12, 384, 384, 768, 12, 32}, {24, 384, 384, 3072, 21, 32},
			{21, 342, 342, 1024, 21, 32}, {3, 64, 64, 64, 17, 8}, {9, 100, 100, 1000, 30, 4},
			{4, 384, 384, 768, 4, 32}, {1, 8, 8, 16, 1, 2}, {21, 3, 3, 6, 21, 32},
		} {
			pf := bl.prefetchPlan(c.kc, 5, 5+c.next, c.k, c.kc, c.np, c.kb, c.tiles)
			lines := min(c.kc, c.k-c.kc)
			groups := c.np / tp
			if tp == 3 && c.np%3 == 1 {
				groups = max(0, c.np-4) / 3
			}
			slots := groups * (c.kb / 4)
			total := c.next * lines
			pos, last := 0, -1
			for tile := range c.tiles + 1 {
				p, line, runs := pf.at(tile)
				if runs == 0 {
					continue
				}
				if last >= 0 && tile != last+1 {
					t.Fatalf("tp %d %+v: tile %d fetches after tile %d", tp, c, tile, last)
				}
				last = tile
				if at := (p-5)*lines + line; at != pos || line >= lines {
					t.Fatalf("tp %d %+v: tile %d starts at line %d (panel %d line %d), want %d", tp, c, tile, at, p, line, pos)
				}
				n := min(pf.slots, total-pos)
				if want := (line + n + lines - 1) / lines; runs != want {
					t.Fatalf("tp %d %+v: tile %d: %d runs, want %d", tp, c, tile, runs, want)
				}
				pos += n
			}
			if slots == 0 || c.kc >= c.k {
				if last >= 0 {
					t.Fatalf("tp %d %+v: tiles fetch with nothing to fetch or no k steps to do it", tp, c)
				}
				continue
			}
			if pos != total || last != c.tiles-1 {
				t.Fatalf("tp %d %+v: lines [0, %d) of %d fetched, the last by tile %d of %d", tp, c, pos, total, last, c.tiles)
			}
			if c.tiles*slots >= total && pf.slots > slots {
				t.Fatalf("tp %d %+v: %d lines a tile, more than its %d k steps can fetch", tp, c, pf.slots, slots)
			}
		}
	}
}
