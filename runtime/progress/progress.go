// Package progress shows how far a long piece of work has come: a checkpoint download, an
// evaluation over 50,000 images.
//
// On a terminal it draws one bar that is rewritten in place (carriage return, at most about ten
// times a second, so that drawing never costs more than the work it reports); anywhere else (a log
// file, CI, a pipe) it writes plain lines, one per tenth of the work or every half minute, so that
// a log stays readable and still shows that the work is alive. The caller does not choose: New
// looks at the output.
package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// Unit says what is counted, which decides how amounts and rates are written.
type Unit int

const (
	Bytes Unit = iota // "12.3 MB", "4.56 MB/s"
	Items             // "12345/50000", "85.2 items/s"
)

// Reporter receives the progress of one piece of work. It is safe for concurrent use, so that
// workers can report directly.
type Reporter interface {
	Add(n int64) // n more units are done
	Set(n int64) // n units are done in all; a smaller n than before means the work restarted
	Done()       // the work is over (finished or abandoned); later calls do nothing
}

// Factory starts reporting one piece of work. name says what is done ("downloading
// vits14/vits14_1.0_1.pth"); total is the amount of work, or 0 or less when it is not known.
type Factory func(name string, total int64, unit Unit) Reporter

// Nop is a Factory whose reporters show nothing; callers use it when they were given no Factory.
func Nop(string, int64, Unit) Reporter { return nopReporter{} }

type nopReporter struct{}

func (nopReporter) Add(int64) {}
func (nopReporter) Set(int64) {}
func (nopReporter) Done()     {}

// Option changes how New reports; the defaults suit a person watching a terminal or a log.
type Option func(*config)

type config struct {
	terminal     bool
	width        int
	now          func() time.Time
	redraw       time.Duration
	lineInterval time.Duration
}

// Terminal forces the bar (true) or plain lines (false) whatever the output is, e.g. for tests
// or a --progress flag.
func Terminal(on bool) Option { return func(c *config) { c.terminal = on } }

// Width sets the bar's width in columns (by default the terminal's, else 80).
func Width(cols int) Option { return func(c *config) { c.width = cols } }

// Clock replaces time.Now, so tests can control rates and redraws.
func Clock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// LineInterval sets how long plain-line output may stay silent before it writes a line even
// though no further tenth of the work is done (default 30 s).
func LineInterval(d time.Duration) Option { return func(c *config) { c.lineInterval = d } }

// New returns a Factory that writes to w: a bar when w is a terminal (and TERM is not "dumb"),
// plain lines otherwise. Options override the choice.
func New(w io.Writer, opts ...Option) Factory {
	c := config{width: 80, now: time.Now, redraw: 100 * time.Millisecond, lineInterval: 30 * time.Second}
	if f, ok := w.(*os.File); ok && IsTerminal(f) && os.Getenv("TERM") != "dumb" {
		c.terminal = true
		if cols := terminalWidth(f); cols > 0 {
			c.width = cols
		}
	}
	for _, o := range opts {
		o(&c)
	}
	return func(name string, total int64, unit Unit) Reporter {
		r := &reporter{cfg: c, w: w, name: name, total: total, unit: unit}
		r.start = c.now()
		r.lastLine = r.start
		r.begin()
		return r
	}
}

// IsTerminal reports whether f is a terminal, the way isatty(3) does.
func IsTerminal(f *os.File) bool { return isTerminal(int(f.Fd())) }

type reporter struct {
	mu    sync.Mutex
	cfg   config
	w     io.Writer
	name  string
	total int64
	unit  Unit

	done     int64
	start    time.Time // when counting for the rate began: creation, or the last restart
	base     int64     // done at start
	lastDraw time.Time // bar: when it was last drawn
	drawn    int       // bar: length of the last line drawn, to blank what a shorter one leaves
	nextTick int64     // lines: the next tenth (1..10) that earns a line
	lastLine time.Time // lines: when the last line was written
	finished bool
}

func (r *reporter) begin() {
	if r.cfg.terminal {
		r.draw(r.start)
		return
	}
	r.nextTick = 1
	if r.total > 0 {
		r.printf("%s: 0%% of %s", r.name, r.amount(r.total))
	} else {
		r.printf("%s: started", r.name)
	}
}

func (r *reporter) Add(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.update(r.done + n)
}

func (r *reporter) Set(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.update(n)
}

func (r *reporter) update(n int64) {
	if r.finished {
		return
	}
	now := r.cfg.now()
	if n < r.done {
		// The work started over (a download whose server ignored the resume request): the rate
		// so far says nothing about the rate from here.
		r.start, r.base = now, n
		r.nextTick = r.tick(n) + 1
	}
	r.done = n
	if r.cfg.terminal {
		if now.Sub(r.lastDraw) >= r.cfg.redraw {
			r.draw(now)
		}
		return
	}
	// A line per tenth, but not more than one a second: quick work gets its start and end
	// lines only.
	if t := r.tick(n); t >= r.nextTick && t < 10 && now.Sub(r.lastLine) >= time.Second {
		r.nextTick = t + 1
		r.line(now)
	} else if now.Sub(r.lastLine) >= r.cfg.lineInterval {
		r.line(now)
	}
}

func (r *reporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	now := r.cfg.now()
	if r.cfg.terminal {
		r.draw(now)
		io.WriteString(r.w, "\n")
		return
	}
	elapsed := now.Sub(r.start)
	msg := fmt.Sprintf("%s: done, %s in %s", r.name, r.amount(r.done), formatDuration(elapsed))
	if rate, ok := r.rate(now); ok {
		msg += " (" + formatRate(rate, r.unit) + ")"
	}
	if r.total > 0 && r.done != r.total {
		msg += fmt.Sprintf(" (stopped at %s of %s)", r.percent(), r.amount(r.total))
	}
	r.printf("%s", msg)
}

// tick is the number of whole tenths of the work done (0..10), or 0 when the total is unknown.
func (r *reporter) tick(n int64) int64 {
	if r.total <= 0 {
		return 0
	}
	return min(10, n*10/r.total)
}

// rate is the work per second since counting began. It is not reported for the first half
// second: a rate from a few milliseconds is noise.
func (r *reporter) rate(now time.Time) (float64, bool) {
	elapsed := now.Sub(r.start).Seconds()
	if elapsed < 0.5 {
		return 0, false
	}
	return float64(r.done-r.base) / elapsed, true
}

func (r *reporter) percent() string {
	p := 100 * float64(r.done) / float64(r.total)
	return fmt.Sprintf("%d%%", int(math.Min(100, math.Max(0, p))))
}

func (r *reporter) amount(n int64) string {
	if r.unit == Bytes {
		return formatBytes(n)
	}
	return fmt.Sprintf("%d items", n)
}

// status is what follows the name: "45% 12.3 MB/s ETA 1m20s" (total known) or
// "230 MB 12.3 MB/s" (unknown), leaving out what cannot be known yet.
func (r *reporter) status(now time.Time, counts bool) string {
	var parts []string
	if r.total > 0 {
		parts = append(parts, fmt.Sprintf("%4s", r.percent()))
		if counts {
			if r.unit == Bytes {
				parts = append(parts, formatBytes(r.done)+"/"+formatBytes(r.total))
			} else {
				parts = append(parts, fmt.Sprintf("%d/%d", r.done, r.total))
			}
		}
	} else {
		parts = append(parts, r.amount(r.done))
	}
	if rate, ok := r.rate(now); ok {
		parts = append(parts, formatRate(rate, r.unit))
		if r.total > 0 && r.done < r.total && rate > 0 {
			eta := time.Duration(float64(r.total-r.done) / rate * float64(time.Second))
			parts = append(parts, "ETA "+formatDuration(eta))
		}
	}
	return strings.Join(parts, " ")
}

func (r *reporter) line(now time.Time) {
	r.lastLine = now
	r.printf("%s: %s", r.name, strings.TrimLeft(r.status(now, false), " "))
}

func (r *reporter) printf(format string, args ...any) {
	fmt.Fprintf(r.w, format+"\n", args...)
}

// draw rewrites the bar line: "\r" then "name [=====>    ]  45% 230 MB/512 MB 12.3 MB/s ETA 39s",
// padded with blanks over what a longer previous line left. It keeps within the width (one
// column spare, so that the cursor never wraps), cutting the name from the left if it must.
func (r *reporter) draw(now time.Time) {
	r.lastDraw = now
	right := " " + r.status(now, true)
	if r.cfg.width-1-len(right) < 16 {
		right = " " + r.status(now, false) // a narrow terminal: the name matters more than the counts
	}
	bar := ""
	if cells := r.barCells(); cells > 0 {
		bar = " [" + barFill(cells, r.done, r.total) + "]"
	}
	name := r.name
	if avail := r.cfg.width - 1 - len(bar) - len(right); len(name) > avail {
		if avail > 3 {
			name = "..." + name[len(name)-(avail-3):]
		} else {
			name = ""
		}
	}
	text := name + bar + right
	if r.cfg.width > 1 && len(text) > r.cfg.width-1 {
		text = text[:r.cfg.width-1]
	}
	pad := max(0, r.drawn-len(text))
	r.drawn = len(text)
	io.WriteString(r.w, "\r"+text+strings.Repeat(" ", pad))
}

// barCells is the width of the bar itself: what the width leaves after the name and the
// widest status this unit can have, up to 40, and no bar at all when fewer than 10 cells are
// left. It depends only on the name and the total, so the bar does not jump about as the
// numbers after it change width.
func (r *reporter) barCells() int {
	if r.total <= 0 {
		return 0
	}
	widest := " 100% 1.23 GB/1.23 GB 12.3 MB/s ETA 59m59s"
	if r.unit == Items {
		digits := len(fmt.Sprint(r.total))
		widest = " 100% " + strings.Repeat("9", 2*digits+1) + " 1234 items/s ETA 59m59s"
	}
	cells := r.cfg.width - 1 - len(r.name) - len(widest) - len(" []")
	if cells < 10 {
		return 0
	}
	return min(cells, 40)
}

func barFill(cells int, done, total int64) string {
	full := int(min(int64(cells), done*int64(cells)/total))
	var b strings.Builder
	b.WriteString(strings.Repeat("=", full))
	if full < cells {
		b.WriteByte('>')
		b.WriteString(strings.Repeat(" ", cells-full-1))
	}
	return b.String()
}

// formatBytes writes n bytes with a decimal unit and three significant digits: "512 B",
// "1.23 kB", "12.3 MB", "512 MB", "2.50 GB".
func formatBytes(n int64) string { return formatSI(float64(n)) + "B" }

func formatSI(v float64) string {
	if v < 999.5 {
		return fmt.Sprintf("%.0f ", v)
	}
	units := []string{"k", "M", "G", "T", "P", "E"}
	for i, u := range units {
		v /= 1000
		if v < 999.5 || i == len(units)-1 {
			return threeDigits(v) + " " + u
		}
	}
	panic("unreachable")
}

// threeDigits writes v (about 1 <= v < 1000) with three significant digits.
func threeDigits(v float64) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f", v)
	case v < 99.95:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// formatRate writes a rate per second: "12.3 MB/s", "85.2 items/s".
func formatRate(perSecond float64, unit Unit) string {
	if unit == Bytes {
		return formatSI(perSecond) + "B/s"
	}
	if perSecond < 100 {
		return fmt.Sprintf("%.1f items/s", perSecond)
	}
	return fmt.Sprintf("%.0f items/s", perSecond)
}

// formatDuration writes a time to go or taken: "0s", "45s", "1m20s", "2h05m", ">99h".
func formatDuration(d time.Duration) string {
	s := int64(math.Round(d.Seconds()))
	switch {
	case s < 0:
		return "?"
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 100*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return ">99h"
	}
}
