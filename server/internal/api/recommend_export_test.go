package api

// Tests see a reproducible random order (api.md §2.16 allows any order; the
// tests pin one). Set before any test runs, never changed afterwards.
func init() { recommendSeed = func() string { return "huey-test-seed" } }
