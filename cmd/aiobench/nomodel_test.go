//go:build !(linux && fbsdmodel)

package main

const modelKernel = false
