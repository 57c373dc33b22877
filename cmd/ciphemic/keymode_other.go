//go:build !unix

package main

// checkKeyFileMode does nothing where files have no Unix modes: there, the key file's
// access is the ACL's, which the operator sets.
func checkKeyFileMode(string) error { return nil }
