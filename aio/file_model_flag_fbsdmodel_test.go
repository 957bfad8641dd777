//go:build fbsdmodel

package aio

const modelBuild = true
