package engine

// SetRowAlign sets rowAlign for the Runs made after it, for tests that pad the rows of small
// models' activations; the function it returns restores it.
func SetRowAlign(n int) (restore func()) {
	old := rowAlign
	rowAlign = n
	return func() { rowAlign = old }
}

// RowStride is Run.rowStride.
func (r *Run) RowStride(w int) int { return r.rowStride(w) }
