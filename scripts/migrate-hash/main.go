// Command migrate-hash rewrites schema/migrations/atlas.sum after a new
// migration file is added, exactly as `atlas migrate hash` would, for people
// without the Atlas CLI: `go run ./scripts/migrate-hash`.
//
// Migrations are append-only: never rehash to cover an edit of a file that
// has already been applied somewhere.
package main

import (
	"flag"
	"fmt"
	"os"

	"ariga.io/atlas/sql/migrate"
)

func main() {
	path := flag.String("dir", "schema/migrations", "the migration directory")
	flag.Parse()
	if err := run(*path); err != nil {
		fmt.Fprintln(os.Stderr, "migrate-hash:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		return err
	}
	fmt.Printf("wrote %s/atlas.sum (%d files)\n", path, len(sum))
	return nil
}
