package policies

import (
	"context"
	"testing"
)

// schoolAdminRead is the benchmarked decision: a school admin of school 17 reads school 17.
var schoolAdminRead = Input{
	Principals: NewPrincipals([]string{
		"system:everyone", "system:authenticated", "user:6f1c1f8e-2c55-4b8e-9d0a-5b0b7d1e9a11",
		"role:educator", "educator:17", "schooladmin:17",
	}),
	Action:   "read",
	Resource: Resource{Type: "school", ID: "17"},
}

func benchEngine(b *testing.B, cacheSize int) *Engine {
	b.Helper()
	srcs, err := productionSources()
	if err != nil {
		b.Fatal(err)
	}
	e, err := newEngine(context.Background(), srcs, cacheSize)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchAllow(b *testing.B, e *Engine, in Input) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := e.Allow(ctx, in)
		if err != nil || !ok {
			b.Fatalf("Allow = %v, %v; want true, nil", ok, err)
		}
	}
}

// BenchmarkDecisionSchoolUncached measures the raw Rego decision (cache disabled).
func BenchmarkDecisionSchoolUncached(b *testing.B) {
	benchAllow(b, benchEngine(b, 0), schoolAdminRead)
}

// BenchmarkDecisionSchoolCached measures a decision answered from the cache.
func BenchmarkDecisionSchoolCached(b *testing.B) {
	benchAllow(b, benchEngine(b, defaultCacheSize), schoolAdminRead)
}

func benchParallel(b *testing.B, e *Engine) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ok, err := e.Allow(ctx, schoolAdminRead)
			if err != nil || !ok {
				b.Errorf("Allow = %v, %v; want true, nil", ok, err)
				return
			}
		}
	})
}

// BenchmarkDecisionSchoolUncachedParallel measures raw decisions from GOMAXPROCS goroutines.
func BenchmarkDecisionSchoolUncachedParallel(b *testing.B) {
	benchParallel(b, benchEngine(b, 0))
}

// BenchmarkDecisionSchoolCachedParallel measures cached decisions from GOMAXPROCS goroutines.
func BenchmarkDecisionSchoolCachedParallel(b *testing.B) {
	benchParallel(b, benchEngine(b, defaultCacheSize))
}

// BenchmarkDecisionSchoolUncachedLastEntry measures the longest path through the school ACL: a
// student reading its school is matched by the seventh entry.
func BenchmarkDecisionSchoolUncachedLastEntry(b *testing.B) {
	in := Input{
		Principals: NewPrincipals([]string{
			"system:everyone", "system:authenticated", "user:0b6c3f4e-8a1d-4c2b-9e7f-1a2b3c4d5e6f",
			"role:reader", "role:student", "student:17",
		}),
		Action:   "read",
		Resource: Resource{Type: "school", ID: "17"},
	}
	benchAllow(b, benchEngine(b, 0), in)
}
