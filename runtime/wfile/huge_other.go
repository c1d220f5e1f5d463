//go:build unix && !linux

package wfile

// adviseHuge does nothing where the system has no transparent huge pages to ask for.
func adviseHuge([]byte) {}
