//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package progress

// Elsewhere the output is treated as a log: plain lines are always correct, a bar only on a
// terminal that understands carriage returns.
func isTerminal(int) bool { return false }

func terminalWidth(interface{ Fd() uintptr }) int { return 0 }
