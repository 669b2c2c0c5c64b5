package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the writer's timer goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestLogWriterBatchesAndFlushes(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	w := newLogWriter(out, 20*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 250 {
				fmt.Fprintf(w, "{\"g\":%d,\"i\":%d}\n", g, i)
			}
		}()
	}
	wg.Wait()
	// Written out by the timer, without Close, in far fewer writes than lines.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, writes := out.snapshot()
		if strings.Count(s, "\n") == 1000 {
			if writes >= 100 {
				t.Errorf("%d writes for 1000 lines: not batched", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 1000 lines written after 5 s", strings.Count(s, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Every line whole.
	s, _ := out.snapshot()
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !strings.HasPrefix(line, `{"g":`) || !strings.HasSuffix(line, "}") {
			t.Fatalf("torn line %q", line)
		}
	}
	// Close flushes what the timer has not.
	fmt.Fprintln(w, "last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _ := out.snapshot(); !strings.HasSuffix(s, "last\n") {
		t.Fatal("Close did not flush the last line")
	}
}

// The request logger's line, written straight to a file (one write system
// call each) and through logWriter.
func BenchmarkRequestLogLine(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		b.Run(fmt.Sprintf("buffered=%v", buffered), func(b *testing.B) {
			f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var w io.Writer = f
			if buffered {
				lw := newLogWriter(f, 100*time.Millisecond)
				defer lw.Close()
				w = lw
			}
			logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					logger.LogAttrs(ctx, slog.LevelInfo, "request",
						slog.String("request_id", "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"), slog.String("method", "GET"),
						slog.String("route", "/v1/edition/:isbn"), slog.Int("status", 200), slog.Float64("latency_ms", 0.412))
				}
			})
		})
	}
}
