package dispatch_test

import (
	"testing"

	"github.com/wriveted/huey-api/tasks/internal/dispatch"
)

// BenchmarkLocalQueue measures the local queue end to end: claim, deliver
// over HTTP to the task server, run (an SMS through the recording
// messenger, its event and the done mark in one transaction), record.
// One op is one task.
//
//	go test -run xxx -bench LocalQueue -benchtime 2000x ./tasks/internal/dispatch/
func BenchmarkLocalQueue(b *testing.B) {
	e := newEnv(b)
	srv := e.server(b, &messenger{})
	d := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Workers: 4,
		Sink: &dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}}
	e.enqueueSMS(b, b.N)
	b.ResetTimer()
	done := 0
	for done < b.N {
		st, err := d.RunOnce(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if st.Processed == 0 {
			b.Fatalf("queue empty after %d of %d", done, b.N)
		}
		done += st.Succeeded
	}
}
