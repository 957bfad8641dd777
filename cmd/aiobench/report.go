package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// result is what one backend run measured.
type result struct {
	backend string
	via     string // the interface that served it: Context.Kernel(), or viaGoroutines
	rw      rwMode
	bs      int64
	qd      int
	direct  bool

	ops            int64
	elapsed        time.Duration // first submission to last completion
	cpu            time.Duration // process user+system CPU over the run
	p50, p99, p999 time.Duration // per-request latency, submit to completion
}

func (r *result) iops() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r *result) mibPerSec() float64 { return r.iops() * float64(r.bs) / (1 << 20) }

// cpuPerOp is the process CPU time per request in µs.
func (r *result) cpuPerOp() float64 {
	if r.ops == 0 {
		return 0
	}
	return float64(r.cpu.Nanoseconds()) / 1e3 / float64(r.ops)
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// jsonResult is the -json line of one run; its fields are the interface.
type jsonResult struct {
	Backend    string  `json:"backend"`
	Interface  string  `json:"interface"`
	RW         string  `json:"rw"`
	BS         int64   `json:"bs"`
	QD         int     `json:"qd"`
	Direct     bool    `json:"direct"`
	Ops        int64   `json:"ops"`
	Seconds    float64 `json:"seconds"`
	IOPS       float64 `json:"iops"`
	MiBPerSec  float64 `json:"mib_per_s"`
	LatP50us   float64 `json:"lat_p50_us"`
	LatP99us   float64 `json:"lat_p99_us"`
	LatP999us  float64 `json:"lat_p999_us"`
	CPUusPerOp float64 `json:"cpu_us_per_op"`
	Kernel     string  `json:"kernel"`
	File       string  `json:"file"`
	Size       int64   `json:"size"`
	GoVersion  string  `json:"go_version"`
	GOMAXPROCS int     `json:"gomaxprocs"`
}

// writeJSON writes r, run in env, as one line of JSON.
func writeJSON(w io.Writer, r *result, env runEnv) error {
	return json.NewEncoder(w).Encode(jsonResult{
		Backend:    r.backend,
		Interface:  r.via,
		RW:         r.rw.String(),
		BS:         r.bs,
		QD:         r.qd,
		Direct:     r.direct,
		Ops:        r.ops,
		Seconds:    round(r.elapsed.Seconds(), 4),
		IOPS:       round(r.iops(), 1),
		MiBPerSec:  round(r.mibPerSec(), 2),
		LatP50us:   round(micros(r.p50), 2),
		LatP99us:   round(micros(r.p99), 2),
		LatP999us:  round(micros(r.p999), 2),
		CPUusPerOp: round(r.cpuPerOp(), 3),
		Kernel:     env.kernel,
		File:       env.file,
		Size:       env.size,
		GoVersion:  env.goVersion,
		GOMAXPROCS: env.gomaxprocs,
	})
}

// writeTable writes the human table of rs. With a baseline (the goroutines
// run of -compare) every row gets its IOPS and CPU/op ratios against it.
func writeTable(w io.Writer, rs []result, base *result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "backend\tinterface\trw\tbs\tqd\tdirect\tIOPS\tMiB/s\tp50 µs\tp99 µs\tp99.9 µs\tCPU µs/op\t"
	if base != nil {
		header += "vs goroutines\t"
	}
	fmt.Fprintln(tw, header)
	for i := range rs {
		r := &rs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%v\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t",
			r.backend, r.via, r.rw, r.bs, r.qd, r.direct, r.iops(), r.mibPerSec(),
			micros(r.p50), micros(r.p99), micros(r.p999), r.cpuPerOp())
		if base != nil {
			fmt.Fprint(tw, ratios(r, base)+"\t")
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// ratios is the -compare column: IOPS and CPU per op against the baseline.
func ratios(r, base *result) string {
	if r.backend == base.backend {
		return "baseline"
	}
	return fmt.Sprintf("%s IOPS, %s CPU/op", ratio(r.iops(), base.iops()), ratio(r.cpuPerOp(), base.cpuPerOp()))
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a/b) || math.IsInf(a/b, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
