package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestFormatBytes(t *testing.T) {
	cases := map[int64]string{
		0:             "0 B",
		999:           "999 B",
		1000:          "1.00 kB",
		1234:          "1.23 kB",
		12_345_678:    "12.3 MB",
		99_960_000:    "100 MB",
		512_000_000:   "512 MB",
		999_600_000:   "1.00 GB",
		2_500_000_000: "2.50 GB",
		1 << 62:       "4.61 EB",
	}
	for n, want := range cases {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	cases := []struct {
		v    float64
		unit Unit
		want string
	}{
		{12_300_000, Bytes, "12.3 MB/s"},
		{999.7, Bytes, "1.00 kB/s"},
		{500, Bytes, "500 B/s"},
		{85.24, Items, "85.2 items/s"},
		{1234.4, Items, "1234 items/s"},
		{0, Items, "0.0 items/s"},
	}
	for _, c := range cases {
		if got := formatRate(c.v, c.unit); got != c.want {
			t.Errorf("formatRate(%v, %v) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Second:                    "?",
		0:                               "0s",
		400 * time.Millisecond:          "0s",
		45 * time.Second:                "45s",
		80 * time.Second:                "1m20s",
		65 * time.Second:                "1m05s",
		59*time.Minute + 59*time.Second: "59m59s",
		2*time.Hour + 5*time.Minute:     "2h05m",
		100 * time.Hour:                 ">99h",
	}
	for d, want := range cases {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLinesMode(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	f := New(&out, Clock(clk.now), LineInterval(time.Minute))
	r := f("downloading vits14/vits14_1.0_1.pth", 100_000_000, Bytes)
	// 1 MB every 0.1 s: 10 MB/s, 10 s in all.
	for i := 0; i < 100; i++ {
		clk.advance(100 * time.Millisecond)
		r.Add(1_000_000)
	}
	r.Done()
	r.Done() // a second Done writes nothing
	r.Add(5) // nor does work reported after it
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"downloading vits14/vits14_1.0_1.pth: 0% of 100 MB",
		"downloading vits14/vits14_1.0_1.pth: 10% 10.0 MB/s ETA 9s",
		"downloading vits14/vits14_1.0_1.pth: 20% 10.0 MB/s ETA 8s",
		"downloading vits14/vits14_1.0_1.pth: 30% 10.0 MB/s ETA 7s",
		"downloading vits14/vits14_1.0_1.pth: 40% 10.0 MB/s ETA 6s",
		"downloading vits14/vits14_1.0_1.pth: 50% 10.0 MB/s ETA 5s",
		"downloading vits14/vits14_1.0_1.pth: 60% 10.0 MB/s ETA 4s",
		"downloading vits14/vits14_1.0_1.pth: 70% 10.0 MB/s ETA 3s",
		"downloading vits14/vits14_1.0_1.pth: 80% 10.0 MB/s ETA 2s",
		"downloading vits14/vits14_1.0_1.pth: 90% 10.0 MB/s ETA 1s",
		"downloading vits14/vits14_1.0_1.pth: done, 100 MB in 10s (10.0 MB/s)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("lines mode wrote a carriage return")
	}
}

func TestLinesModeSlowWorkStillWritesLines(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	f := New(&out, Clock(clk.now), LineInterval(30*time.Second), Terminal(false))
	r := f("evaluating vith14@476_1.0_1", 50_000, Items)
	for i := 0; i < 100; i++ { // 100 images in 100 s: no tenth done, but a line every 30 s
		clk.advance(time.Second)
		r.Add(1)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"evaluating vith14@476_1.0_1: 0% of 50000 items",
		"evaluating vith14@476_1.0_1: 0% 1.0 items/s ETA 13h52m",
		"evaluating vith14@476_1.0_1: 0% 1.0 items/s ETA 13h52m",
		"evaluating vith14@476_1.0_1: 0% 1.0 items/s ETA 13h51m",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}
}

func TestLinesModeUnknownTotalAndRestart(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	f := New(&out, Clock(clk.now), LineInterval(10*time.Second))
	r := f("downloading x", 0, Bytes)
	clk.advance(10 * time.Second)
	r.Add(20_000_000)
	clk.advance(5 * time.Second)
	r.Set(0) // restart: the rate starts again from here
	clk.advance(5 * time.Second)
	r.Set(5_000_000)
	r.Done()
	want := "downloading x: started\n" +
		"downloading x: 20.0 MB 2.00 MB/s\n" +
		"downloading x: 5.00 MB 1.00 MB/s\n" +
		"downloading x: done, 5.00 MB in 5s (1.00 MB/s)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLinesModeAbandoned(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	r := New(&out, Clock(clk.now))("downloading y", 1000, Bytes)
	clk.advance(time.Second)
	r.Set(50)
	r.Done()
	want := "downloading y: 0% of 1.00 kB\ndownloading y: done, 50 B in 1s (50 B/s) (stopped at 5% of 1.00 kB)\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestBarMode(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	f := New(&out, Terminal(true), Width(100), Clock(clk.now))
	r := f("downloading vits14/vits14_1.0_1.pth", 100_000_000, Bytes)
	for i := 0; i < 100; i++ {
		clk.advance(50 * time.Millisecond) // 20 MB/s; a redraw every other step
		r.Add(1_000_000)
	}
	r.Done()
	s := out.String()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Fatalf("bar mode must end with one newline and have no other: %q", s)
	}
	frames := strings.Split(strings.TrimSuffix(s, "\n"), "\r")[1:]
	// One frame at the start, one per 100 ms of 5 s, one at Done.
	if len(frames) != 52 {
		t.Errorf("%d frames drawn, want 52 (at most one per 100 ms)", len(frames))
	}
	for _, fr := range frames {
		if len(fr) > 99 {
			t.Errorf("frame wider than 99 columns: %q", fr)
		}
	}
	first := frames[0]
	wantFirst := "downloading vits14/vits14_1.0_1.pth [>                  ]   0% 0 B/100 MB"
	if first != wantFirst {
		t.Errorf("first frame\n%q\nwant\n%q", first, wantFirst)
	}
	mid := frames[25] // after 2.5 s: 50 MB
	wantMid := "downloading vits14/vits14_1.0_1.pth [=========>         ]  50% 50.0 MB/100 MB 20.0 MB/s ETA 3s"
	if mid != wantMid {
		t.Errorf("middle frame\n%q\nwant\n%q", mid, wantMid)
	}
	last := frames[len(frames)-1]
	wantLast := "downloading vits14/vits14_1.0_1.pth [===================] 100% 100 MB/100 MB 20.0 MB/s"
	if strings.TrimRight(last, " ") != wantLast {
		t.Errorf("last frame\n%q\nwant\n%q", last, wantLast)
	}
}

func TestBarModeNarrowTerminalAndPadding(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	f := New(&out, Terminal(true), Width(40), Clock(clk.now))
	r := f("downloading finetuned_vith14@476/vith14@476_0.0001_3.pth", 2_500_000_000, Bytes)
	clk.advance(time.Second)
	r.Set(1_250_000_000)
	clk.advance(time.Second)
	r.Set(0) // restarted: the shorter line must blank the longer one
	r.Done()
	frames := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\r")[1:]
	if len(frames) != 4 {
		t.Fatalf("frames %q", frames)
	}
	for _, fr := range frames {
		if len(fr) > 39 {
			t.Errorf("frame wider than 39 columns: %q", fr)
		}
		if !strings.HasPrefix(fr, "...") {
			t.Errorf("long name not cut from the left: %q", fr)
		}
	}
	if want := "...6_0.0001_3.pth  50% 1.25 GB/s ETA 1s"; frames[1] != want {
		t.Errorf("frame %q, want %q", frames[1], want)
	}
	if len(frames[2]) < len(frames[1]) {
		t.Errorf("shorter frame not padded over the longer one: %q after %q", frames[2], frames[1])
	}
}

func TestBarModeIsSafeForConcurrentUse(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Terminal(true))("evaluating", 8000, Items)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				r.Add(1)
			}
		}()
	}
	wg.Wait()
	r.Done()
	if !strings.Contains(out.String(), "8000/8000") {
		t.Errorf("final frame lacks 8000/8000: %q", out.String())
	}
}

func TestNewChoosesLinesForNonTerminalFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file is not a terminal")
	}
	r := New(f)("downloading z", 10, Bytes)
	r.Add(10)
	r.Done()
	b, _ := os.ReadFile(f.Name())
	if strings.Contains(string(b), "\r") || !strings.HasPrefix(string(b), "downloading z: 0% of 10 B\n") {
		t.Errorf("not lines mode: %q", b)
	}
}

func TestNop(t *testing.T) {
	var f Factory = Nop
	r := f("x", 10, Items)
	r.Add(1)
	r.Set(2)
	r.Done()
}
