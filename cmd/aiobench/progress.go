package main

import (
	"fmt"
	"io"
	"time"
)

// progressEvery is how often the progress line refreshes.
const progressEvery = 250 * time.Millisecond

// progress is the line on stderr that shows a run's rate while it lasts.
// It is only started for runs longer than a second on a terminal; a nil
// *progress does nothing.
type progress struct {
	w        io.Writer
	label    string
	dur      time.Duration
	count    func() int64
	quit     chan struct{}
	finished chan struct{}
}

func startProgress(w io.Writer, label string, dur time.Duration, count func() int64) *progress {
	if dur <= time.Second {
		return nil
	}
	p := &progress{
		w:        w,
		label:    label,
		dur:      dur,
		count:    count,
		quit:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.finished)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	start := time.Now()
	last, lastAt := p.count(), start
	for {
		select {
		case <-p.quit:
			fmt.Fprint(p.w, "\r\x1b[K") // clear the line
			return
		case now := <-t.C:
			n := p.count()
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			last, lastAt = n, now
			elapsed := min(now.Sub(start), p.dur)
			fmt.Fprintf(p.w, "\r%s  %.1fs/%v  %.0f IOPS\x1b[K", p.label, elapsed.Seconds(), p.dur, rate)
		}
	}
}

// stop ends the line and clears it.
func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	<-p.finished
}
