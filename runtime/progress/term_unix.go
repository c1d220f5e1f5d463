//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package progress

import "golang.org/x/sys/unix"

// isTerminal asks the terminal driver for the file's settings: only a terminal has them. This is
// what isatty(3) does, without a module beyond golang.org/x/sys.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	return err == nil
}

// terminalWidth is the number of columns of the terminal, or 0 when it cannot be told.
func terminalWidth(f interface{ Fd() uintptr }) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
