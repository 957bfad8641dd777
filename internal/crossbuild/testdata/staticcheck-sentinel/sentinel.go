// Package sentinel holds one deliberate staticcheck finding. CI runs
// staticcheck on it together with the module, for every target, and
// requires exactly this finding: a staticcheck run that analyzed nothing
// (a crash that exits 0, a target it silently skipped) cannot pass.
package sentinel

func sentinelUnused() {}
