package engine

import "github.com/vitc-dev/vitc/asm"

// Tile sizes of the work split: each task is at most rowTile rows × panelTile panels.
const (
	rowTile   = 64
	panelTile = 8
)

// MatMul computes dst (rows×n) = epi(src (rows×k) · packed w + bias) on all cores.
func MatMul(dst, src, w, bias []float32, rows, n, k int, epi asm.Epilogue) {
	panels := (n + asm.PanelWidth - 1) / asm.PanelWidth
	rowTasks := (rows + rowTile - 1) / rowTile
	panelTasks := (panels + panelTile - 1) / panelTile
	parallel(rowTasks*panelTasks, func(_, task int) {
		i0 := (task / panelTasks) * rowTile
		p0 := (task % panelTasks) * panelTile
		m := min(rowTile, rows-i0)
		j0 := p0 * asm.PanelWidth
		cols := min(panelTile*asm.PanelWidth, n-j0)
		var bs []float32
		if bias != nil {
			bs = bias[j0:]
		}
		asm.Sgemm(m, cols, k, src[i0*k:], k, w[p0*k*asm.PanelWidth:], dst[i0*n+j0:], n, bs, epi)
	})
}
