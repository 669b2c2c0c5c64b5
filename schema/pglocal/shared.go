package pglocal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// JoinShared shares one local service (the test cluster, the Firebase
// emulator) between the processes of a `go test ./...` run. Under an
// exclusive lock in dir, start brings the service up unless it already runs;
// the caller then holds a shared "users" lock until it calls release. The
// process that releases last (it can take the users lock exclusively) runs
// stop. release is safe to call more than once.
func JoinShared(dir string, start, stop func() error) (release func(), err error) {
	startLock, err := lockFile(filepath.Join(dir, "start.lock"), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer startLock.Close()
	if err := start(); err != nil {
		return nil, err
	}
	users, err := lockFile(filepath.Join(dir, "users.lock"), syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			sl, err := lockFile(filepath.Join(dir, "start.lock"), syscall.LOCK_EX)
			if err != nil {
				return
			}
			defer sl.Close()
			_ = syscall.Flock(int(users.Fd()), syscall.LOCK_UN)
			if syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				_ = stop()
			}
			users.Close()
		})
	}, nil
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- our own lock file
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// ModuleRoot returns the directory of the go.mod above the working directory
// (tests run in their package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
