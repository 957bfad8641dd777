//go:build linux && fbsdmodel

package main

// Under -tags fbsdmodel, DefaultBackend is the FreeBSD backend running over
// internal/fbsdmodel, a simulated kernel that allocates as it works.
const modelKernel = true
