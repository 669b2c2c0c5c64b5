// Package schema owns the database: the Atlas versioned migration directory
// (embedded in every binary), the code that applies it, and the packages
// below it that talk to Postgres (db, dbtest, pglocal).
//
// It imports nothing from server, tasks or scripts.
package schema

import (
	"embed"
	"io/fs"
	"path"

	"ariga.io/atlas/sql/migrate"
)

//go:embed migrations/*.sql migrations/atlas.sum
var migrationsFS embed.FS

// Dir returns the embedded migration directory as an Atlas migrate.Dir.
func Dir() migrate.Dir {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return FSDir{FS: sub}
}

// FSDir is a read-only Atlas migration directory over any fs.FS. Unlike
// migrate.MemDir it holds no process-wide state, so tests may build as many
// as they like concurrently.
type FSDir struct{ fs.FS }

var _ migrate.Dir = FSDir{}

// WriteFile implements migrate.Dir; the directory is read-only.
func (d FSDir) WriteFile(name string, _ []byte) error {
	return &fs.PathError{Op: "write", Path: name, Err: fs.ErrPermission}
}

// Files implements migrate.Dir: every *.sql file, in lexical order.
func (d FSDir) Files() ([]migrate.File, error) {
	names, err := fs.Glob(d.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	files := make([]migrate.File, 0, len(names))
	for _, n := range names { // fs.Glob returns names sorted
		b, err := fs.ReadFile(d.FS, n)
		if err != nil {
			return nil, err
		}
		files = append(files, migrate.NewLocalFile(path.Base(n), b))
	}
	return files, nil
}

// Checksum implements migrate.Dir.
func (d FSDir) Checksum() (migrate.HashFile, error) {
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	return migrate.NewHashFile(files)
}
