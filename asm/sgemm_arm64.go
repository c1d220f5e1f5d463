//go:build !purego

package asm

// The neon variant: NEON is part of ARMv8-A, so it is always available on arm64. The kernel
// does whole 6×16 tiles; this file does the edges.

// The variant is registered while package variables are initialised, not in an init function:
// sgemm.go's init chooses the variant, and init functions run in file-name order, so one here
// would run after the choice (leaving generic active and VITC_KERNEL=neon refused).
var _ = register(&Variant{Name: "neon", Available: true, TileRows: 6, TileCols: PanelWidth, sgemm: sgemmNEON})

// Flags of sgemm6x16NEON.
const (
	neonBias       = 1 << 0 // add bias[0:16] to every row
	neonAccumulate = 1 << 1 // add the result to c instead of overwriting it
)

const (
	neonRows = 6 // rows of a tile of sgemm6x16NEON

	// neonMaxK bounds one kernel call (6·16·neonMaxK FMAs, about 0.1 ms at 15 GFLOP/s) because
	// assembly cannot be preempted; deeper products go to the reference.
	neonMaxK = 1 << 14
)

// sgemm6x16NEON computes one tile, rows×16, of c = a·b (+ bias) (+ c) in float32, in
// increasing k:
//   - a points at rows rows of k floats, lda floats apart (lda ≥ k); rows is 1…6;
//   - b points at one packed panel, k×16 floats (b[16kk+j] is column j of row kk);
//   - k ≥ 0;
//   - c points at rows rows of 16 floats, ldc floats apart, all written;
//   - bias points at 16 floats when flags&neonBias, else it is not read;
//   - flags&neonAccumulate adds the result to c (c += a·b + bias).
//
// No alignment is required.
//
//go:noescape
func sgemm6x16NEON(a *float32, lda, rows int, b *float32, k int, c *float32, ldc int, bias *float32, flags int)

// sgemmNEON is Sgemm with sgemm6x16NEON: full panels straight into c, with the bias and the
// residual fused into the store; a partial last panel through a 6×16 scratch tile and finish.
// GELU is a Go pass over each stored tile.
func sgemmNEON(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue) {
	if k == 0 || k > neonMaxK {
		sgemmGeneric(m, n, k, a, lda, b, bk, c, ldc, bias, epi)
		return
	}
	flags := 0
	if bias != nil {
		flags |= neonBias
	}
	if epi == Accumulate {
		flags |= neonAccumulate
	}
	var tile [neonRows * PanelWidth]float32
	for j0 := 0; j0 < n; j0 += PanelWidth {
		panel := &b[j0*bk]
		if n-j0 < PanelWidth {
			for i := 0; i < m; i += neonRows {
				rows := min(neonRows, m-i)
				sgemm6x16NEON(&a[i*lda], lda, rows, panel, k, &tile[0], PanelWidth, nil, 0)
				for r := range rows {
					finish(c[(i+r)*ldc+j0:(i+r)*ldc+n], tile[r*PanelWidth:r*PanelWidth+n-j0], bias, j0, epi)
				}
			}
			break
		}
		var bp *float32
		if bias != nil {
			bp = &bias[j0]
		}
		for i := 0; i < m; i += neonRows {
			rows := min(neonRows, m-i)
			sgemm6x16NEON(&a[i*lda], lda, rows, panel, k, &c[i*ldc+j0], ldc, bp, flags)
			if epi == GELU {
				for r := range rows {
					cr := c[(i+r)*ldc+j0 : (i+r)*ldc+j0+PanelWidth]
					for j, v := range cr {
						cr[j] = Gelu(v)
					}
				}
			}
		}
	}
}
