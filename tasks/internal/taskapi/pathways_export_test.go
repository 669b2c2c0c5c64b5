package taskapi

// Tests see a reproducible random order of reading-pathway candidates
// (tasks.md §5.1 asks for a random order; the tests pin one). Set before any
// test runs, never changed afterwards.
func init() { pathwaysSeed = func() string { return "pathways-test-seed" } }
