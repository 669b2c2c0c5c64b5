package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
)

// RevisionsSchema is where the revisions table lives: the Atlas CLI's default
// for realm-scoped URLs, so `atlas migrate status --env local` reads the same
// history as `go run ./server migrate status`.
const RevisionsSchema = "atlas_schema_revisions"

// revisionsDDL is the table the Atlas CLI creates, column for column.
const revisionsDDL = `
CREATE SCHEMA IF NOT EXISTS atlas_schema_revisions;
CREATE TABLE IF NOT EXISTS atlas_schema_revisions.atlas_schema_revisions (
  version character varying PRIMARY KEY,
  description character varying NOT NULL,
  type bigint NOT NULL DEFAULT 2,
  applied bigint NOT NULL DEFAULT 0,
  total bigint NOT NULL DEFAULT 0,
  executed_at timestamptz NOT NULL,
  execution_time bigint NOT NULL,
  error text,
  error_stmt text,
  hash character varying NOT NULL,
  partial_hashes jsonb,
  operator_version character varying NOT NULL
)`

// cloudIdentifier is a reserved row the CLI may write; it is not a migration.
const cloudIdentifier = ".atlas_cloud_identifier"

// revisions implements migrate.RevisionReadWriter on the CLI's table. The
// Atlas library ships no implementation of its own.
type revisions struct {
	q atlasschema.ExecQuerier // *sql.DB or *sql.Tx
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func ensureRevisionsTable(ctx context.Context, q atlasschema.ExecQuerier) error {
	if _, err := q.ExecContext(ctx, revisionsDDL); err != nil {
		return fmt.Errorf("create revisions table: %w", err)
	}
	return nil
}

func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Schema: RevisionsSchema, Name: "atlas_schema_revisions"}
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time,
  coalesce(error, ''), coalesce(error_stmt, ''), hash, coalesce(partial_hashes, 'null'::jsonb), operator_version`

func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+revisionColumns+`
FROM atlas_schema_revisions.atlas_schema_revisions WHERE version <> $1 ORDER BY version`, cloudIdentifier)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+revisionColumns+`
FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = $1`, version)
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	partial, err := json.Marshal(rev.PartialHashes)
	if err != nil {
		return err
	}
	executedAt := rev.ExecutedAt
	if executedAt.IsZero() {
		executedAt = time.Now()
	}
	_, err = r.q.ExecContext(ctx, `
INSERT INTO atlas_schema_revisions.atlas_schema_revisions
  (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), nullif($9, ''), $10, $11, $12)
ON CONFLICT (version) DO UPDATE SET
  description = excluded.description, type = excluded.type, applied = excluded.applied,
  total = excluded.total, executed_at = excluded.executed_at, execution_time = excluded.execution_time,
  error = excluded.error, error_stmt = excluded.error_stmt, hash = excluded.hash,
  partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`,
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, executedAt,
		int64(rev.ExecutionTime), rev.Error, rev.ErrorStmt, rev.Hash, partial, rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.q.ExecContext(ctx,
		`DELETE FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = $1`, version); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev      migrate.Revision
		typ      int64
		execTime int64
		partial  []byte
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &rev.ExecutedAt,
		&execTime, &rev.Error, &rev.ErrorStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("scan revision: %w", err)
	}
	rev.Type = migrate.RevisionType(typ) // #nosec G115 -- small bit flags
	rev.ExecutionTime = time.Duration(execTime)
	if len(partial) > 0 && string(partial) != "null" {
		if err := json.Unmarshal(partial, &rev.PartialHashes); err != nil {
			return nil, fmt.Errorf("scan revision %s partial hashes: %w", rev.Version, err)
		}
	}
	return &rev, nil
}
